//! The mutants of one source file, as cargo-mutants defines them (so outcomes can be compared
//! mutant by mutant): a function's body replaced by values of its return type, binary
//! operators swapped, unary `!` and `-` deleted, match guards set to `true` or `false`. Test
//! code, `const fn`, `unsafe` and `#[mutants::skip]` are left alone, as cargo-mutants leaves
//! them. Pure: text in, mutants out.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

/// What kind of change a mutant makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Genre {
    /// A function's body replaced by a value.
    FnValue,
    /// A binary operator swapped.
    BinaryOperator,
    /// A unary operator deleted.
    UnaryOperator,
    /// A match guard replaced by a constant.
    MatchGuard,
}

/// The change inside a mutant's span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The whole span becomes this text (a body, a guard).
    Whole(String),
    /// This byte range (inside the span) becomes this text (an operator, a deleted `!`).
    Part(Range<usize>, String),
}

/// One mutant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The file, as given.
    pub file: String,
    /// The function it is in (`Type::method`, `name`), when it is in one.
    pub function: Option<String>,
    /// What kind of change.
    pub genre: Genre,
    /// The bytes of the source the mutant is about (a body block, an expression, a guard).
    pub span: Range<usize>,
    /// 1-based line and column of what changes.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
    /// The change.
    pub edit: Edit,
    /// cargo-mutants' description: `replace add -> i32 with 0`, `replace == with != in f`.
    pub description: String,
    /// The span holds statements, not one expression: written elsewhere as an expression, it
    /// needs braces (and only then: braces around one expression are linted as unneeded).
    pub statements: bool,
}

impl Mutant {
    /// cargo-mutants' name of the mutant: `src/lib.rs:3:5: replace add -> i32 with 0`.
    pub fn name(&self) -> String {
        format!(
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.description
        )
    }
}

/// The mutants of `source`, named with `file`.
pub fn mutants(file: &str, source: &str) -> Result<Vec<Mutant>, String> {
    let ast = syn::parse_file(source).map_err(|e| format!("{file}: cannot parse: {e}"))?;
    let mut v = Visitor {
        file,
        lines: LineIndex::new(source),
        out: Vec::new(),
        functions: Vec::new(),
        namespace: Vec::new(),
    };
    v.visit_file(&ast);
    v.out
        .sort_by_key(|m| (m.span.start, std::cmp::Reverse(m.span.end)));
    Ok(v.out)
}

/// Byte offsets of line starts, to turn spans' line/column into byte ranges.
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> LineIndex<'s> {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { source, starts }
    }

    /// The byte offset of a span position (line 1-based, column in characters).
    pub(crate) fn offset(&self, at: proc_macro2::LineColumn) -> Option<usize> {
        let start = *self.starts.get(at.line.checked_sub(1)?)?;
        let line = &self.source[start..];
        let within = line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i);
        Some(start + within)
    }

    /// The 1-based line holding byte `at`.
    pub(crate) fn line_of(&self, at: usize) -> u32 {
        let line = self.starts.partition_point(|&s| s <= at);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    fn range(&self, span: proc_macro2::Span) -> Option<Range<usize>> {
        Some(self.offset(span.start())?..self.offset(span.end())?)
    }
}

struct Visitor<'f, 's> {
    file: &'f str,
    lines: LineIndex<'s>,
    out: Vec<Mutant>,
    /// Enclosing functions' names, innermost last.
    functions: Vec<String>,
    /// The modules, impls, traits and functions around, outermost first (cargo-mutants names
    /// functions with them).
    namespace: Vec<String>,
}

/// `#[test]` (and `#[tokio::test]`…), `#[cfg(test)]` (and any `cfg` naming `test`),
/// `#[mutants::skip]`, also under `cfg_attr`.
fn skipped(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        let text = quote_path(path);
        text == "test"
            || text.ends_with("::test")
            || text == "mutants::skip"
            || (text == "cfg_attr"
                && token_text(&a.meta)
                    .replace(' ', "")
                    .contains("mutants::skip"))
            || (text == "cfg"
                && token_text(&a.meta)
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == "test"))
    })
}

fn quote_path(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn token_text(meta: &syn::Meta) -> String {
    match meta {
        syn::Meta::List(l) => l.tokens.to_string(),
        _ => String::new(),
    }
}

fn type_text(ty: &syn::Type) -> String {
    pretty(quote::ToTokens::to_token_stream(ty))
}

/// Tokens as Rust is usually written, the way cargo-mutants prints names (so names compare):
/// no space around punctuation except after `,`, `;` and `->`, one between words.
pub(crate) fn pretty(tokens: proc_macro2::TokenStream) -> String {
    use proc_macro2::{Delimiter, TokenTree};
    let mut out = String::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        let more = iter.peek().is_some();
        match &tt {
            TokenTree::Punct(p) => {
                let c = p.as_char();
                if c == '|' && !out.is_empty() && !out.ends_with([' ', '|']) {
                    out.push(' ');
                }
                out.push(c);
                if more && (c == ',' || c == ';' || out.ends_with("->")) {
                    out.push(' ');
                }
            }
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if out.ends_with('=') || out.ends_with("=>") || out.ends_with('|') {
                    out.push(' ');
                }
                out.push_str(&tt.to_string());
                let spaced = match iter.peek() {
                    Some(TokenTree::Ident(_) | TokenTree::Literal(_)) => true,
                    Some(TokenTree::Punct(p)) => {
                        !matches!(p.as_char(), ',' | ';' | '<' | '>' | ':' | '.' | '!')
                    }
                    _ => false,
                };
                if spaced {
                    out.push(' ');
                }
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push_str(&pretty(g.stream()));
                out.push_str(close);
            }
        }
    }
    out
}

impl Visitor<'_, '_> {
    fn push(
        &mut self,
        genre: Genre,
        span: Range<usize>,
        at: proc_macro2::Span,
        edit: Edit,
        description: String,
    ) {
        let start = at.start();
        self.out.push(Mutant {
            file: self.file.to_string(),
            function: self.functions.last().cloned(),
            genre,
            span,
            line: u32::try_from(start.line).unwrap_or(u32::MAX),
            col: u32::try_from(start.column + 1).unwrap_or(u32::MAX),
            edit,
            description,
            statements: false,
        });
    }

    fn in_function(&self) -> String {
        self.functions
            .last()
            .map(|f| format!(" in {f}"))
            .unwrap_or_default()
    }

    /// A function: its body replaced by each value of its return type, then what is inside.
    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) {
        if skipped(attrs) || sig.constness.is_some() || sig.unsafety.is_some() {
            return;
        }
        // As cargo-mutants names it: the modules, impls, traits and functions around it.
        self.namespace.push(sig.ident.to_string());
        let name = self.namespace.join("::");
        let ret = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, t) => Some(&**t),
        };
        let shown = ret
            .map(|t| format!(" -> {}", type_text(t)))
            .unwrap_or_default();
        self.functions.push(name.clone());
        // The body's statements, from the first to the last, as cargo-mutants spans them (an
        // empty body has none to replace).
        let stmts = block.stmts.first().zip(block.stmts.last());
        if let Some((first, last)) = stmts
            && let (Some(start), Some(end)) = (
                self.lines.range(first.span()),
                self.lines.range(last.span()),
            )
        {
            let one_expression =
                block.stmts.len() == 1 && matches!(first, syn::Stmt::Expr(_, None));
            // A body that already is the value (`Ok(())`) has no mutant in it.
            let already = one_expression.then(|| pretty(quote::ToTokens::to_token_stream(first)));
            for value in super::values::values(ret) {
                if already.as_deref() == Some(value.as_str()) {
                    continue;
                }
                let description = format!("replace {name}{shown} with {value}");
                self.push(
                    Genre::FnValue,
                    start.start..end.end,
                    first.span(),
                    Edit::Whole(value),
                    description,
                );
                if let Some(m) = self.out.last_mut() {
                    m.statements = !one_expression;
                }
            }
        }
        syn::visit::visit_block(self, block);
        self.functions.pop();
        self.namespace.pop();
    }
}

/// A `let` condition, or a chain of them joined by `&&`.
fn is_let(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Let(_) => true,
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            is_let(&b.left) || is_let(&b.right)
        }
        _ => false,
    }
}

/// cargo-mutants' replacements of a binary operator.
fn swapped(op: &syn::BinOp) -> &'static [&'static str] {
    use syn::BinOp::*;
    match op {
        Eq(_) => &["!="],
        Ne(_) => &["=="],
        Lt(_) => &["==", ">", "<="],
        Le(_) => &[">"],
        Gt(_) => &["==", "<", ">="],
        Ge(_) => &["<"],
        Add(_) => &["-", "*"],
        Sub(_) => &["+", "/"],
        Mul(_) => &["+", "/"],
        Div(_) => &["%", "*"],
        Rem(_) => &["/", "+"],
        And(_) => &["||"],
        Or(_) => &["&&"],
        BitAnd(_) => &["|", "^"],
        BitOr(_) => &["&", "^"],
        BitXor(_) => &["|", "&"],
        Shl(_) => &[">>"],
        Shr(_) => &["<<"],
        AddAssign(_) => &["-=", "*="],
        SubAssign(_) => &["+=", "/="],
        MulAssign(_) => &["+=", "/="],
        DivAssign(_) => &["%=", "*="],
        _ => &[],
    }
}

impl<'ast> Visit<'ast> for Visitor<'_, '_> {
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.function(&i.attrs, &i.sig, &i.block);
    }

    // A method called `new` is left alone whole, as cargo-mutants leaves it: a constructor
    // rarely has a value to return instead.
    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        if i.sig.ident != "new" {
            self.function(&i.attrs, &i.sig, &i.block);
        }
    }

    fn visit_trait_item_fn(&mut self, i: &'ast syn::TraitItemFn) {
        if let Some(block) = i.default.as_ref().filter(|_| i.sig.ident != "new") {
            self.function(&i.attrs, &i.sig, block);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if skipped(&i.attrs) || i.unsafety.is_some() {
            return;
        }
        let ty = type_text(&i.self_ty);
        let name = match &i.trait_ {
            // `default()` replaced by `Default::default()` would call itself: nothing to try.
            Some((_, path, _)) if path.segments.last().is_some_and(|s| s.ident == "Default") => {
                return;
            }
            Some((_, path, _)) => {
                let path = pretty(quote::ToTokens::to_token_stream(path));
                format!("<impl {path} for {ty}>")
            }
            None => ty,
        };
        self.namespace.push(name);
        syn::visit::visit_item_impl(self, i);
        self.namespace.pop();
    }

    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        if skipped(&i.attrs) {
            return;
        }
        self.namespace.push(i.ident.to_string());
        syn::visit::visit_item_trait(self, i);
        self.namespace.pop();
    }

    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        if !skipped(&i.attrs) {
            self.namespace
                .push(syn::ext::IdentExt::unraw(&i.ident).to_string());
            syn::visit::visit_item_mod(self, i);
            self.namespace.pop();
        }
    }

    // Constant contexts cannot read a runtime switch.
    fn visit_item_const(&mut self, _: &'ast syn::ItemConst) {}
    fn visit_item_static(&mut self, _: &'ast syn::ItemStatic) {}
    fn visit_expr_const(&mut self, _: &'ast syn::ExprConst) {}
    fn visit_expr_unsafe(&mut self, _: &'ast syn::ExprUnsafe) {}
    fn visit_type(&mut self, _: &'ast syn::Type) {}
    fn visit_macro(&mut self, _: &'ast syn::Macro) {}

    fn visit_expr_binary(&mut self, i: &'ast syn::ExprBinary) {
        // `&&` joining `let` conditions (a let chain) has no other operator to become.
        let let_chain = is_let(&i.left) || is_let(&i.right);
        if !let_chain
            && !self.functions.is_empty()
            && let (Some(range), Some(op_range)) =
                (self.lines.range(i.span()), self.lines.range(i.op.span()))
        {
            let op = quote::ToTokens::to_token_stream(&i.op).to_string();
            for new in swapped(&i.op) {
                let description = format!("replace {op} with {new}{}", self.in_function());
                self.push(
                    Genre::BinaryOperator,
                    range.clone(),
                    i.op.span(),
                    Edit::Part(op_range.clone(), (*new).to_string()),
                    description,
                );
            }
        }
        syn::visit::visit_expr_binary(self, i);
    }

    fn visit_expr_unary(&mut self, i: &'ast syn::ExprUnary) {
        let deletable = matches!(i.op, syn::UnOp::Not(_) | syn::UnOp::Neg(_));
        if deletable
            && !self.functions.is_empty()
            && let (Some(range), Some(op_range)) =
                (self.lines.range(i.span()), self.lines.range(i.op.span()))
        {
            let op = quote::ToTokens::to_token_stream(&i.op).to_string();
            let description = format!("delete {op}{}", self.in_function());
            self.push(
                Genre::UnaryOperator,
                range,
                i.op.span(),
                Edit::Part(op_range, String::new()),
                description,
            );
        }
        syn::visit::visit_expr_unary(self, i);
    }

    fn visit_arm(&mut self, i: &'ast syn::Arm) {
        if let Some((_, guard)) = &i.guard
            && !self.functions.is_empty()
            && let Some(range) = self.lines.range(guard.span())
        {
            for value in ["true", "false"] {
                let description = format!("replace match guard with {value}{}", self.in_function());
                self.push(
                    Genre::MatchGuard,
                    range.clone(),
                    guard.span(),
                    Edit::Whole(value.to_string()),
                    description,
                );
            }
        }
        syn::visit::visit_arm(self, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub struct Counter { n: u32 }

impl Counter {
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    pub const fn zero() -> u32 { 0 }
    pub fn name(&self) -> String {
        match self.n {
            n if n > 9 => "many".into(),
            _ => "few".into(),
        }
    }
    pub fn flip(&self, on: bool) -> Option<bool> {
        Some(!on)
    }
    pub fn nothing(&self) {}
}

impl Default for Counter {
    fn default() -> Self { Counter { n: 1 - 1 } }
}

impl std::fmt::Display for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.n)
    }
}

#[mutants::skip]
pub fn skipped() -> bool { true }

#[cfg_attr(test, mutants::skip)]
pub fn also_skipped() -> bool { true }

impl Counter {
    pub fn new() -> Self { Counter { n: 1 + 1 } }
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() { assert_eq!(super::add(1, 2), 3); }
}
"#;

    #[test]
    fn mutants_are_named_as_cargo_mutants_names_them() {
        let found = mutants("src/lib.rs", SOURCE).unwrap();
        let names: Vec<String> = found.iter().map(Mutant::name).collect();
        let want = [
            "src/lib.rs:2:5: replace add -> i32 with 0",
            "src/lib.rs:2:5: replace add -> i32 with 1",
            "src/lib.rs:2:5: replace add -> i32 with -1",
            "src/lib.rs:2:7: replace + with - in add",
            "src/lib.rs:2:7: replace + with * in add",
            "src/lib.rs:9:9: replace Counter::is_empty -> bool with true",
            "src/lib.rs:9:9: replace Counter::is_empty -> bool with false",
            "src/lib.rs:9:16: replace == with != in Counter::is_empty",
            "src/lib.rs:13:9: replace Counter::name -> String with String::new()",
            "src/lib.rs:13:9: replace Counter::name -> String with \"xyzzy\".into()",
            "src/lib.rs:14:18: replace match guard with true in Counter::name",
            "src/lib.rs:14:18: replace match guard with false in Counter::name",
            "src/lib.rs:14:20: replace > with == in Counter::name",
            "src/lib.rs:14:20: replace > with < in Counter::name",
            "src/lib.rs:14:20: replace > with >= in Counter::name",
            "src/lib.rs:19:9: replace Counter::flip -> Option<bool> with None",
            "src/lib.rs:19:9: replace Counter::flip -> Option<bool> with Some(true)",
            "src/lib.rs:19:9: replace Counter::flip -> Option<bool> with Some(false)",
            "src/lib.rs:19:14: delete ! in Counter::flip",
            "src/lib.rs:30:9: replace <impl std::fmt::Display for Counter>::fmt -> std::fmt::Result with Ok(Default::default())",
        ];
        let mut sorted = names.clone();
        sorted.sort();
        let mut expected: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(sorted, expected, "{names:#?}");
    }

    #[test]
    fn a_body_that_is_already_the_value_is_no_mutant() {
        let source = "fn f() -> Result<(), E> {\n    Ok(())\n}\nfn g() -> bool {\n    true\n}\n";
        let names: Vec<String> = mutants("x.rs", source)
            .unwrap()
            .iter()
            .map(|m| m.description.clone())
            .collect();
        assert_eq!(names, ["replace g -> bool with false"]);
    }

    #[test]
    fn nested_functions_and_modules_are_in_the_name() {
        let source = "mod m {\n    pub fn gcb() -> u8 {\n        fn imp() -> bool {\n            true\n        }\n        imp() as u8\n    }\n}\n";
        let names: Vec<String> = mutants("src/x.rs", source)
            .unwrap()
            .iter()
            .map(|m| m.description.clone())
            .collect();
        assert!(
            names.contains(&"replace m::gcb -> u8 with 0".to_string()),
            "{names:#?}"
        );
        assert!(
            names.contains(&"replace m::gcb::imp -> bool with false".to_string()),
            "{names:#?}"
        );
    }

    #[test]
    fn spans_cover_what_changes() {
        let found = mutants("x.rs", SOURCE).unwrap();
        let plus = found
            .iter()
            .find(|m| m.description == "replace + with - in add")
            .unwrap();
        assert_eq!(&SOURCE[plus.span.clone()], "a + b");
        let Edit::Part(op, new) = &plus.edit else {
            panic!("{plus:?}")
        };
        assert_eq!((&SOURCE[op.clone()], new.as_str()), ("+", "-"));
        let body = found.iter().find(|m| m.genre == Genre::FnValue).unwrap();
        assert_eq!(&SOURCE[body.span.clone()], "a + b");
        assert!(mutants("x.rs", "fn (").is_err());
    }
}
