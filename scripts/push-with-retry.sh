#!/bin/sh
# Push HEAD to a branch of a remote; when the push is rejected (someone pushed meanwhile), rebase onto the
# branch and try again, at most PUSH_ATTEMPTS pushes in all. A rebase conflict fails at once (retrying can not
# resolve it) and leaves the clone as it was, not half-rebased. Rebasing (never merging) keeps the pushed tip
# the commit it was, message included: the apply workflow skips commits starting with "modelops apply:", and a
# merge commit would escape that guard.
#
#   scripts/push-with-retry.sh REMOTE BRANCH
#
# PUSH_ATTEMPTS (default 5) bounds the pushes; PUSH_RETRY_DELAY (seconds, default 5) times the attempt
# number is the wait before the next one. Exit 0 when pushed, 1 when not, 64 on a usage error.
#
# GH_TOKEN, when set, authenticates the pushes and fetches over HTTPS as `x-access-token` (the apply workflow gives
# the job's token to this step alone). git gets it from a credential helper that reads it from this process's
# environment when git asks: it is never on a command line, in .git/config or any file, nor printed, and the
# helpers configured on the machine are switched off for these commands (none of them stores it).
# Used by .github/workflows/modelops-apply.yml; tested with real git, over a loopback smart-HTTP server that
# requires the token, by tests/acceptance/test_workflow_scripts.py.
set -eu

if [ "$#" -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: $0 REMOTE BRANCH" >&2
  exit 64
fi
remote=$1
branch=$2
attempts=${PUSH_ATTEMPTS:-5}
delay=${PUSH_RETRY_DELAY:-5}
case $attempts in
  '' | *[!0-9]* | 0 | 0*) echo "PUSH_ATTEMPTS must be a positive whole number, not '$attempts'" >&2; exit 64 ;;
esac
case $delay in
  '' | *[!0-9]*) echo "PUSH_RETRY_DELAY must be a whole number of seconds, not '$delay'" >&2; exit 64 ;;
esac

GIT_TERMINAL_PROMPT=0  # no one is there to answer: a missing credential fails instead of waiting
export GIT_TERMINAL_PROMPT

# git, with GH_TOKEN as the only credential when it is set
remote_git() {
  if [ -n "${GH_TOKEN:-}" ]; then
    # shellcheck disable=SC2016  # $1 and $GH_TOKEN belong to the helper's shell, expanded when git asks
    git -c credential.helper= \
      -c credential.helper='!f() { if [ "$1" = get ]; then printf "username=x-access-token\npassword=%s\n" "$GH_TOKEN"; fi; }; f' \
      "$@"
  else
    git "$@"
  fi
}

attempt=1
while :; do
  if remote_git push "$remote" "HEAD:refs/heads/$branch"; then
    exit 0
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    break
  fi
  echo "push rejected (attempt $attempt of $attempts): rebasing onto $remote/$branch and trying again"
  if remote_git fetch "$remote" "refs/heads/$branch"; then
    if ! git rebase FETCH_HEAD; then
      git rebase --abort || true
      echo "::error::the commit does not rebase cleanly onto $branch; resolve by hand"
      exit 1
    fi
  else
    echo "could not fetch $branch from $remote (attempt $attempt of $attempts)"
  fi
  sleep $((attempt * delay))
  attempt=$((attempt + 1))
done
echo "::error::could not push to $branch after $attempts attempts"
exit 1
