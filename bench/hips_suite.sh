#!/usr/bin/env bash
# Run HIPS autograd's own test suite and examples against OUR autograd package.
#
# Usage: bench/hips_suite.sh [PYTHON] [tests|examples|all]   (what `make hips` runs)
#
# Downloads the autograd==1.9.1 sdist into a temporary folder (deleted at exit),
# copies its tests/ and examples/ away from its own package (so theirs cannot be
# imported), runs the tests with --continue-on-collection-errors and prints the
# number passing out of the 618 that pass on HIPS itself, then runs each example
# that needs no download, unchanged, for at most 60 s with matplotlib's Agg backend
# and reports which finish (ok), which are still running after 60 s without an
# error (timeout) and which fail.  Nothing of theirs is kept.
set -u
PY=${1:-.venv/bin/python}
WHAT=${2:-all}
VERSION=1.9.1
HIPS_PASS=618          # tests of the sdist that pass on HIPS autograd 1.9.1 itself
LIMIT=${HIPS_EXAMPLE_LIMIT:-60}
# examples that download MNIST, and the two data-loading modules that are not examples
SKIP="convnet.py generative_adversarial_net.py neural_net.py variational_autoencoder.py data.py data_mnist.py"

PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hips.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
"$PY" -m pip download -q --no-deps --no-binary :all: "autograd==$VERSION" -d dl > pip.log 2>&1 || {
  cat pip.log; echo "hips: could not download autograd==$VERSION"; exit 1; }
tar xzf dl/autograd-$VERSION.tar.gz
mkdir run
cp -r "autograd-$VERSION/tests" "autograd-$VERSION/examples" run/
cd run || exit 1
"$PY" -c "import autograd, sys; sys.exit('hips: the autograd imported is not ours: ' + autograd.__file__) if 'hips.' in autograd.__file__ else None" || exit 1

status=0
if [ "$WHAT" = all ] || [ "$WHAT" = tests ]; then
  "$PY" -m pytest -q -c /dev/null --rootdir . -p no:cacheprovider -o addopts= \
      --continue-on-collection-errors tests > pytest.log 2>&1
  grep -E '^(FAILED|ERROR) ' pytest.log
  tail -1 pytest.log
  passed=$(tail -1 pytest.log | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  echo "HIPS autograd $VERSION tests: ${passed:-0} of $HIPS_PASS pass with our autograd"
fi

if [ "$WHAT" = all ] || [ "$WHAT" = examples ]; then
  "$PY" -c "import matplotlib" 2>/dev/null || "$PY" -m pip install -q matplotlib >/dev/null
  export MPLBACKEND=Agg
  ok=(); slow=(); bad=()
  for f in $(cd examples && find . -name '*.py' ! -name '__init__.py' | sort); do
    f=${f#./}
    case " $SKIP " in *" $(basename "$f") "*) continue;; esac
    dir=examples/$(dirname "$f")
    (cd "$dir" && timeout "$LIMIT" "$PY" "$(basename "$f")" > "$TMP/example.log" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then ok+=("$f")
    elif [ $rc -eq 124 ]; then slow+=("$f")
    else bad+=("$f"); echo "--- $f failed (rc $rc):"; tail -3 "$TMP/example.log"; fi
  done
  echo "examples that finish: ${ok[*]:-none}"
  echo "examples still running after ${LIMIT}s without error: ${slow[*]:-none}"
  echo "examples that fail: ${bad[*]:-none}"
  echo "HIPS autograd $VERSION examples: $(( ${#ok[@]} + ${#slow[@]} )) of $(( ${#ok[@]} + ${#slow[@]} + ${#bad[@]} )) run"
  [ ${#bad[@]} -eq 0 ] || status=1
fi
exit $status
