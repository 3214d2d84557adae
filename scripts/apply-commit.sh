#!/bin/sh
# Carry the commit of `modelops apply --commit` from the job that applied (where model tests and model servers ran:
# code that could have changed anything on that machine) to the job that pushes it (the only one holding a write
# token), as data: a git bundle, checked before anything is done with it.
#
#   scripts/apply-commit.sh bundle BASE FILE
#       In the apply job. When HEAD is a new commit on BASE, write it to FILE and print `committed=true`, else print
#       `committed=false` (stdout is for $GITHUB_OUTPUT; messages go to stderr).
#   scripts/apply-commit.sh take BASE FILE
#       In the push job, on a checkout of BASE. Accept FILE only if it holds exactly one commit, whose only parent is
#       BASE, whose message starts with "modelops apply:", and which changes only what apply writes: regular files
#       named environments/ENV/state.json, state.journal or REPORT.md, under environments/ENV/rendered/, or a post-
#       incident review environments/ENV/incidents/ID.md. Then
#       check that commit out (detached), for scripts/push-with-retry.sh.
#
# Exit 0 when done, 1 when the bundle is refused, 64 on a usage error. Used by .github/workflows/modelops-apply.yml;
# tested with real git by tests/acceptance/test_workflow_scripts.py.
set -eu

if [ "$#" -ne 3 ] || [ -z "$2" ] || [ -z "$3" ]; then
  echo "usage: $0 bundle|take BASE FILE" >&2
  exit 64
fi
mode=$1
file=$3
base=$(git rev-parse --verify --quiet "$2^{commit}") || { echo "$0: $2 is not a commit here" >&2; exit 64; }

refuse() {
  echo "::error::$file: $*; nothing is pushed"
  exit 1
}

# Whether a path is one apply writes (ENV is one path segment).
written_by_apply() {
  case $1 in
    environments/*/*) ;;
    *) return 1 ;;
  esac
  rest=${1#environments/}
  env=${rest%%/*}
  name=${rest#*/}
  [ -n "$env" ] || return 1
  case $name in
    state.json | state.journal | REPORT.md | rendered/?*) return 0 ;;
    incidents/*/*) return 1 ;;
    incidents/?*.md) return 0 ;;
  esac
  return 1
}

case $mode in
  bundle)
    head=$(git rev-parse HEAD)
    if [ "$head" = "$base" ]; then
      echo "apply committed nothing" >&2
      echo "committed=false"
      exit 0
    fi
    git bundle create --quiet "$file" HEAD "^$base"
    echo "bundled $(git log -1 --format='%h %s' HEAD)" >&2
    echo "committed=true"
    ;;
  take)
    [ -f "$file" ] || refuse "no such file"
    heads=$(git bundle list-heads "$file" 2>/dev/null) || refuse "not a git bundle"
    [ "${heads#* }" = HEAD ] || refuse "it must hold HEAD alone"  # one line "SHA HEAD"
    git fetch --quiet --no-tags --no-write-fetch-head "$file" "+HEAD:refs/modelops/apply" 2>&1 \
      || refuse "it does not apply on $base"
    commit=$(git rev-parse refs/modelops/apply)
    git update-ref -d refs/modelops/apply
    [ "$(git rev-list --parents -n 1 "$commit")" = "$commit $base" ] \
      || refuse "$commit is not a single commit on $base"
    case $(git log -1 --format=%s "$commit") in
      "modelops apply:"*) ;;
      *) refuse "$commit was not made by modelops apply" ;;
    esac
    changes=$(git diff-tree -r --no-commit-id --no-renames --raw "$base" "$commit")
    [ -n "$changes" ] || refuse "$commit changes nothing"
    # ":OLD_MODE NEW_MODE OLD_SHA NEW_SHA STATUS<TAB>PATH"; an unusual path is quoted by git, and so refused
    tab=$(printf '\t')
    while IFS=$tab read -r meta path; do
      new_mode=${meta#:* }
      new_mode=${new_mode%% *}
      case $new_mode in
        100644 | 000000) ;;
        *) refuse "$path: mode $new_mode (apply writes regular files only)" ;;
      esac
      written_by_apply "$path" || refuse "$path is not a file apply writes"
    done <<EOF
$changes
EOF
    git -c core.hooksPath=/dev/null checkout --quiet --detach "$commit"
    echo "took $(git log -1 --format='%h %s' "$commit")"
    ;;
  *)
    echo "usage: $0 bundle|take BASE FILE" >&2
    exit 64
    ;;
esac
