"""The architecture's rule for this package: consensus knows nothing of contracts, and of the node only its crypto."""

import ast
from pathlib import Path

import consensus

ALLOWED_FROM_PROJECT = {"node.crypto"}
PROJECT_PACKAGES = {"node", "contracts_py", "meter_io", "rpc", "portal", "genesis"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_consensus_imports_only_node_crypto_from_the_project():
    for path in Path(consensus.__file__).parent.glob("*.py"):
        for module in imported_modules(path):
            if module.split(".")[0] in PROJECT_PACKAGES:
                assert module in ALLOWED_FROM_PROJECT, f"{path.name} imports {module}"
