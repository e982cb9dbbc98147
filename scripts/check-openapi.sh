#!/usr/bin/env bash
# Validates the node's OpenAPI document (crates/hotline-node/openapi.json, the
# one the API serves at /openapi.json) with an independent validator,
# openapi-spec-validator (Python), installing it with pip when it is missing.
# The Rust test crates/hotline-node/tests/openapi.rs checks that the document
# and the router list the same paths and methods.
# Usage: scripts/check-openapi.sh   (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

doc=crates/hotline-node/openapi.json

if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  echo "openapi-spec-validator is missing; installing it with pip"
  python3 -m pip install --quiet openapi-spec-validator
fi

python3 -m openapi_spec_validator --version
python3 -m openapi_spec_validator --schema 3.1 --validation-errors all "$doc"
