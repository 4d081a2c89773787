#!/usr/bin/env python3
"""Validate JSON documents against a JSON Schema with the jsonschema package.

Usage: PYTHON Tests/interop/validate_json.py SCHEMA.json DOCUMENT.json...
Ends with `validate_json: N passed, M failed`; exit 1 on any failure.
"""

import json
import sys

import jsonschema


def main() -> int:
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    passed = failed = 0
    for path in sys.argv[2:]:
        errors = sorted(validator.iter_errors(json.load(open(path, encoding="utf-8"))), key=str)
        if errors:
            failed += 1
            print(f"{path}: {errors[0].message} at {list(errors[0].absolute_path)}")
        else:
            passed += 1
    print(f"validate_json: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
