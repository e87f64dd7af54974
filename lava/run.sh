#!/bin/sh
# Run nsconform on a LAVA device and report each trial with lava-test-case.
# Usage: lava/run.sh NSCONFORM [URL] [nsconform run arguments...]
set -u
cd "$(dirname "$0")/.."
bin="$1"
url="${2:-}"
shift 2 2>/dev/null || shift $#
if [ -n "$url" ]; then
    bin=/tmp/nsconform-lava/nsconform
    mkdir -p /tmp/nsconform-lava
    wget -q -O "$bin" "$url" && wget -q -O "$bin-probe" "${url}-probe"
    chmod +x "$bin" "$bin-probe"
fi
out=/tmp/nsconform-lava/report
rm -rf "$out"
"$bin" run --report-dir "$out" --quiet "$@"
status=$?
# KTAP for LKFT's parser, as kselftest prints it.
cat "$out/report.ktap"
# One LAVA test case per trial, from the KTAP: "  ok N case::door # SKIP why"
# under "  # Subtest: type".
report() {
    if command -v lava-test-case >/dev/null 2>&1; then
        lava-test-case "$1" --result "$2"
    else
        echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$2>"
    fi
}
ty=""
while IFS= read -r line; do
    case "$line" in
    *"# Subtest: "*) ty="${line##*# Subtest: }" ;;
    "  ok "* | "  not ok "*)
        rest="${line#  }"
        case "$rest" in
        "not ok "*) result=fail; rest="${rest#not ok }" ;;
        *) result=pass; rest="${rest#ok }" ;;
        esac
        rest="${rest#* }"
        case "$rest" in *"# SKIP"*) result=skip ;; esac
        name="${rest%% #*}"
        name="$(printf '%s' "$ty.$name" | sed 's/::/./g; s/[^A-Za-z0-9._-]/_/g')"
        report "$name" "$result"
        ;;
    esac
done <"$out/report.ktap"
report nsconform-run "$([ "$status" -eq 0 ] && echo pass || echo fail)"
exit 0
