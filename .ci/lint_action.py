#!/usr/bin/env python3
"""Lints action.yml's composite steps with actionlint (and shellcheck, which actionlint runs on
`run:` scripts when it is installed). actionlint only reads an action's metadata, so the steps
are wrapped in a `workflow_call` workflow declaring the same inputs: references to unknown
inputs or steps, expression errors and shell bugs are then all reported. Also enforces that no
`${{ }}` expression is pasted into a `run:` script (values go through `env:`), so nothing a PR
controls can be injected into the shell."""
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

action_path = Path(sys.argv[1] if len(sys.argv) > 1 else "action.yml")
action = yaml.safe_load(action_path.read_text())
steps = action["runs"]["steps"]

problems = []
for i, step in enumerate(steps):
    if "run" in step and "${{" in step["run"]:
        problems.append(f"{action_path}: step {i + 1} ({step.get('name', '?')}) pastes an expression into its script; pass it through env:")
    if "run" in step and step.get("shell") is None:
        problems.append(f"{action_path}: step {i + 1} has no shell (composite steps need one)")

inputs = {
    name: {"type": "string", "required": False, "description": spec.get("description", "")}
    for name, spec in (action.get("inputs") or {}).items()
}
workflow = {
    "name": f"{action_path} (composite steps)",
    "on": {"workflow_call": {"inputs": inputs}},
    "jobs": {"composite": {"runs-on": "ubuntu-latest", "steps": steps}},
}
with tempfile.TemporaryDirectory() as d:
    wf = Path(d) / ".github" / "workflows" / "composite.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(yaml.safe_dump(workflow, sort_keys=False))
    result = subprocess.run(["actionlint", "-no-color", str(wf)], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(result.stdout + result.stderr)

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{action_path}: {len(steps)} composite steps pass actionlint")
