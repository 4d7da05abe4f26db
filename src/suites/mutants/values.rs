//! The values a function's body is replaced with, by its return type, as cargo-mutants
//! generates them (so the same mutant has the same name in both tools): `0`/`1`/`-1` for
//! integers, `true`/`false`, empty and one-element collections, `String::new()` and
//! `"xyzzy".into()`, `Ok(…)`, `None`/`Some(…)`, containers of those, leaked references,
//! tuples as every combination, `Default::default()` for what is not recognised. Pure.

use syn::{GenericArgument, PathArguments, Type};

/// The values for a function returning `ty` (`None`: returning `()`); empty when there is
/// none to try (`!`, an `impl Trait` other than an iterator).
pub fn values(ty: Option<&Type>) -> Vec<String> {
    match ty {
        None => vec!["()".to_string()],
        Some(t) => of(t),
    }
}

const UNSIGNED: &[&str] = &["u8", "u16", "u32", "u64", "u128", "usize"];
const SIGNED: &[&str] = &["i8", "i16", "i32", "i64", "i128", "isize"];
const CONTAINERS: &[&str] = &["Box", "Cell", "RefCell", "Arc", "Rc", "Mutex"];
const COLLECTIONS: &[&str] = &[
    "BinaryHeap",
    "BTreeSet",
    "HashSet",
    "LinkedList",
    "VecDeque",
];
const MAPS: &[&str] = &["BTreeMap", "HashMap"];

fn of(ty: &Type) -> Vec<String> {
    match ty {
        Type::Path(p) => of_path(&p.path),
        Type::Paren(p) => of(&p.elem),
        Type::Group(g) => of(&g.elem),
        Type::Array(a) => {
            let len = super::generate::pretty(quote::ToTokens::to_token_stream(&a.len));
            each(of(&a.elem), |v| format!("[{v}; {len}]"))
        }
        Type::Slice(s) => leaked_vecs(&s.elem),
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if r.mutability.is_none() && p.path.is_ident("str") => {
                vec!["\"\"".to_string(), "\"xyzzy\"".to_string()]
            }
            Type::Slice(s) => leaked_vecs(&s.elem),
            elem => each(of(elem), |v| format!("Box::leak(Box::new({v}))")),
        },
        Type::Tuple(t) if t.elems.is_empty() => vec!["()".to_string()],
        Type::Tuple(t) => {
            let mut rows: Vec<Vec<String>> = vec![Vec::new()];
            for elem in &t.elems {
                let vs = of(elem);
                rows = rows
                    .iter()
                    .flat_map(|row| {
                        vs.iter().map(move |v| {
                            let mut r = row.clone();
                            r.push(v.clone());
                            r
                        })
                    })
                    .collect();
            }
            rows.into_iter()
                .map(|r| format!("({})", r.join(", ")))
                .collect()
        }
        Type::ImplTrait(i) => match impl_iterator_item(i) {
            Some(item) => {
                let mut v = vec!["::std::iter::empty()".to_string()];
                v.extend(each(of(item), |x| format!("::std::iter::once({x})")));
                v
            }
            None => Vec::new(),
        },
        Type::Never(_) => Vec::new(),
        _ => vec!["Default::default()".to_string()],
    }
}

fn each(values: Vec<String>, f: impl Fn(&str) -> String) -> Vec<String> {
    values.iter().map(|v| f(v)).collect()
}

fn leaked_vecs(elem: &Type) -> Vec<String> {
    let mut v = vec!["Vec::leak(Vec::new())".to_string()];
    v.extend(each(of(elem), |x| format!("Vec::leak(vec![{x}])")));
    v
}

/// The type arguments of the path's last segment.
fn type_args(path: &syn::Path) -> Vec<&Type> {
    match path.segments.last().map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(a)) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// All the generic arguments of the last segment (lifetimes included), as cargo-mutants
/// counts them for containers and collections.
fn arg_count(path: &syn::Path) -> usize {
    match path.segments.last().map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(a)) => a.args.len(),
        _ => 0,
    }
}

fn of_path(path: &syn::Path) -> Vec<String> {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let Some(last) = path.segments.last() else {
        return strings(&["Default::default()"]);
    };
    let name = last.ident.to_string();
    let is = |n: &str| path.is_ident(n);
    let args = type_args(path);
    let first = args.first().copied();
    if is("bool") {
        strings(&["true", "false"])
    } else if is("String") {
        strings(&["String::new()", "\"xyzzy\".into()"])
    } else if is("str") {
        strings(&["\"\"", "\"xyzzy\""])
    } else if UNSIGNED.iter().any(|n| is(n)) {
        strings(&["0", "1"])
    } else if SIGNED.iter().any(|n| is(n)) {
        strings(&["0", "1", "-1"])
    } else if name.starts_with("NonZeroI") {
        strings(&["1.try_into().unwrap()", "(-1).try_into().unwrap()"])
    } else if name.starts_with("NonZeroU") {
        strings(&["1.try_into().unwrap()"])
    } else if name == "NonZero" && first.is_some() {
        let unsigned =
            matches!(first, Some(Type::Path(p)) if UNSIGNED.iter().any(|n| p.path.is_ident(n)));
        if unsigned {
            strings(&["1.try_into().unwrap()"])
        } else {
            strings(&["1.try_into().unwrap()", "(-1).try_into().unwrap()"])
        }
    } else if is("f32") || is("f64") {
        strings(&["0.0", "1.0", "-1.0"])
    } else if name == "Result" {
        match first {
            Some(ok) => each(of(ok), |v| format!("Ok({v})")),
            None => strings(&["Ok(Default::default())"]),
        }
    } else if name == "HttpResponse" {
        strings(&["HttpResponse::Ok().finish()"])
    } else if let (Some(inner), "Option") = (first, name.as_str()) {
        let mut v = strings(&["None"]);
        v.extend(each(of(inner), |x| format!("Some({x})")));
        v
    } else if let (Some(inner), "Vec") = (first, name.as_str()) {
        let mut v = strings(&["vec![]"]);
        v.extend(each(of(inner), |x| format!("vec![{x}]")));
        v
    } else if let (Some(inner), "Cow") = (first, name.as_str()) {
        of(inner)
            .iter()
            .flat_map(|x| {
                [
                    format!("Cow::Borrowed({x})"),
                    format!("Cow::Owned({x}.to_owned())"),
                ]
            })
            .collect()
    } else if CONTAINERS.contains(&name.as_str()) && arg_count(path) == 1 && first.is_some() {
        each(first.map(of).unwrap_or_default(), |x| {
            format!("{name}::new({x})")
        })
    } else if COLLECTIONS.contains(&name.as_str()) && arg_count(path) == 1 && first.is_some() {
        let mut v = vec![format!("{name}::new()")];
        v.extend(each(first.map(of).unwrap_or_default(), |x| {
            format!("{name}::from_iter([{x}])")
        }));
        v
    } else if MAPS.contains(&name.as_str()) && arg_count(path) == 2 && args.len() == 2 {
        let mut v = vec![format!("{name}::new()")];
        for k in of(args[0]) {
            for val in of(args[1]) {
                v.push(format!("{name}::from_iter([({k}, {val})])"));
            }
        }
        v
    } else if args.len() == 1 && first.is_some() {
        // A `T<A>` not known: perhaps a collection or a container of `A`.
        let mut v = vec![format!("{name}::new()")];
        for x in first.map(of).unwrap_or_default() {
            v.push(format!("{name}::from_iter([{x}])"));
            v.push(format!("{name}::new({x})"));
            v.push(format!("{name}::from({x})"));
        }
        v
    } else {
        strings(&["Default::default()"])
    }
}

/// `T` of `impl Iterator<Item = T>`.
fn impl_iterator_item(i: &syn::TypeImplTrait) -> Option<&Type> {
    i.bounds.iter().find_map(|b| {
        let syn::TypeParamBound::Trait(t) = b else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "Iterator" {
            return None;
        }
        let PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        match a.args.first()? {
            GenericArgument::AssocType(at) if at.ident == "Item" => Some(&at.ty),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ty: &str) -> Vec<String> {
        values(Some(&syn::parse_str::<Type>(ty).unwrap()))
    }

    #[test]
    fn values_follow_the_return_type() {
        assert_eq!(values(None), ["()"]);
        assert_eq!(v("u8"), ["0", "1"]);
        assert_eq!(v("Option<bool>"), ["None", "Some(true)", "Some(false)"]);
        assert_eq!(v("fmt::Result"), ["Ok(Default::default())"]);
        assert_eq!(v("Result<(), Error>"), ["Ok(())"]);
        assert_eq!(v("&'static str"), ["\"\"", "\"xyzzy\""]);
        assert_eq!(
            v("&[u8]"),
            [
                "Vec::leak(Vec::new())",
                "Vec::leak(vec![0])",
                "Vec::leak(vec![1])"
            ]
        );
        assert_eq!(v("&Config"), ["Box::leak(Box::new(Default::default()))"]);
        assert_eq!(
            v("(u8, bool)"),
            ["(0, true)", "(0, false)", "(1, true)", "(1, false)"]
        );
        assert_eq!(v("[u8; 4]"), ["[0; 4]", "[1; 4]"]);
        assert_eq!(
            v("Arc<String>"),
            ["Arc::new(String::new())", "Arc::new(\"xyzzy\".into())"]
        );
        assert_eq!(
            v("HashSet<bool>"),
            [
                "HashSet::new()",
                "HashSet::from_iter([true])",
                "HashSet::from_iter([false])"
            ]
        );
        assert_eq!(v("BTreeMap<u8, bool>").len(), 5);
        assert_eq!(
            v("impl Iterator<Item = u8>"),
            [
                "::std::iter::empty()",
                "::std::iter::once(0)",
                "::std::iter::once(1)"
            ]
        );
        assert!(v("impl Display").is_empty());
        assert!(v("!").is_empty());
        assert_eq!(v("Self"), ["Default::default()"]);
        assert_eq!(v("std::string::String"), ["Default::default()"]);
        assert_eq!(v("Wrapper<u8>").len(), 7);
    }
}
