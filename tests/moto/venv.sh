# Sourced by test.sh and bench.sh: creates (or refreshes) the project-local
# virtualenv .venv with the pinned moto when it is missing or stale, and
# exports APIGW_AUDIT_PYTHON, the interpreter the tests and the benchmark use.
venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/moto/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing moto into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/moto/requirements.txt
  echo "$want" > "$stamp"
fi
export APIGW_AUDIT_PYTHON="$PWD/$venv/bin/python"
