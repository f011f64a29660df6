"""``python -m infra``: write the merge template, or the whole SAM template offline.

    python -m infra resources --stage dev --out infra/resources.json
    python -m infra template --stage dev --out build/template

``resources`` is what ``make package`` merges. ``template`` runs chalice's
own packager with that merge template but with an empty code bundle, so the
SAM template cfn-lint checks in ``make test`` is exactly the one ``make
package`` writes, without downloading Lambda wheels.
"""

from __future__ import annotations

import argparse
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from infra.template import ROOT, build


def write_resources(stage: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(stage), indent=2, sort_keys=True) + "\n")


def write_template(stage: str, out: Path) -> Path:
    """Package ``stage`` into ``out`` with an empty code zip; returns the SAM template."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.packager import LambdaDeploymentPackager

    resources = out / "resources.json"
    write_resources(stage, resources)

    def empty_bundle(self: Any, project_dir: str, python_version: str) -> str:
        path = out / "code.zip"
        with zipfile.ZipFile(path, "w") as bundle:
            bundle.writestr("app.py", "")
        return str(path)

    # chalice builds the bundle with pip for the Lambda platform; the
    # template does not depend on what is inside it.
    LambdaDeploymentPackager.create_deployment_package = empty_bundle  # type: ignore[method-assign]
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(stage)
    packager = factory.create_app_packager(
        config, factory.create_package_options(), "cloudformation", "json", str(resources)
    )
    packager.package_app(config, str(out / "package"), stage)
    return out / "package" / "sam.json"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra")
    parser.add_argument("what", choices=["resources", "template"])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.what == "resources":
        write_resources(args.stage, args.out)
        print(f"wrote {args.out}")
    else:
        print(f"wrote {write_template(args.stage, args.out)}")


if __name__ == "__main__":
    main()
