// The plan workflow's sticky pull-request comment, run by actions/github-script from the base branch's checkout
// (never the pull request's: see docs/reports-and-github.md, "The trust boundary"):
//
//   const stickyComment = require("./base/.github/scripts/sticky-comment.js");
//   await stickyComment({ github, context, core, planFile, mergeOutcome, validateOutcome, planOutcome,
//                         hasChanges, environments });
//
// `modelops plan --format markdown` prints the plan as parts, each starting with a hidden marker line
// `<!-- modelops-plan part N/M -->` and each within GitHub's 65,535-character limit. This posts one comment
// per part: comments written by a bot whose body starts with a part marker are ours, in the order they were
// written (part 1 stays the sticky comment); they are updated in place (left alone when unchanged), missing
// parts are created, and parts that are no longer needed are deleted. Any other comment is never touched.
//
// Every comment ends with what a reviewer needs to trust it: the commit planned (the pull request's head, merged
// into the base commit), a link to the workflow run, and what merging does ("Merging applies this plan to: …" or
// "Nothing will change on merge."), from the plan step's outputs. A short plan (one part of at most FOLD_LINES
// lines) is shown unfolded; a longer one keeps the engine's folds, its summaries outside them. A token that may
// not comment (a read-only token) gets a warning, not a failure: the plan is in the job summary either way.
// tests/acceptance/test_workflow_scripts.py runs this module under node against an in-memory API.
"use strict";

const fs = require("fs");

const MARKER = "<!-- modelops-plan";
const LIMIT = 65535; // characters (code points), as the engine counts them
const PER_PAGE = 100; // the most GitHub returns per page
const OURS = /^<!-- modelops-plan part \d+\/\d+ -->/;
const PART_START = /^(?=<!-- modelops-plan part \d+\/\d+ -->$)/m;
const FOLD_LINES = 40; // a plan this short is shown without <details> folds
const CONFLICT = "❌ **This pull request does not merge cleanly into its base branch.** Resolve the conflicts; " +
  "the plan runs again on the next push.";
const INVALID = "❌ **The configuration is invalid.** The errors are annotated on the changed lines " +
  "(see *Files changed*) and listed in the log of the Validate step.";
const FAILED = "❌ **The plan failed.** See the log of the Plan step.";
const CUT = "\n\n… *(cut: this part was over GitHub's 65,535-character limit)*\n";

const length = (text) => Array.from(text).length;

function single(text) {
  return `${MARKER} part 1/1 -->\n## modelops plan\n\n${text}\n`;
}

// A part over the limit (the engine never prints one) is cut rather than refused by GitHub.
function fit(part, core) {
  if (length(part) <= LIMIT) {
    return part;
  }
  core.warning(`a plan part has ${length(part)} characters, over GitHub's limit of ${LIMIT}: cut`);
  return Array.from(part).slice(0, LIMIT - length(CUT)).join("") + CUT;
}

// The printed plan split on its marker lines (what modelops.cli.views.markdown.split_parts does). Text without
// any marker becomes one part with a marker, so that the next run still finds its comment.
function splitParts(text, core) {
  const parts = text.split(PART_START).filter((p) => OURS.test(p)).map((p) => p.replace(/\n+$/, "") + "\n");
  if (parts.length === 0) {
    return [fit(single(text.trim() || "The plan printed nothing."), core)];
  }
  return parts.map((part) => fit(part, core));
}

// The comment's parts, and whether they hold a plan (rather than the reason there is none).
function planParts({ planFile, mergeOutcome, validateOutcome, planOutcome }, core) {
  if (mergeOutcome && mergeOutcome !== "success") {
    return { parts: [single(CONFLICT)], planned: false };
  }
  if (validateOutcome !== "success") {
    return { parts: [single(INVALID)], planned: false };
  }
  if (planOutcome !== "success" || !planFile || !fs.existsSync(planFile)) {
    return { parts: [single(FAILED)], planned: false };
  }
  return { parts: unfoldShort(splitParts(fs.readFileSync(planFile, "utf8"), core)), planned: true };
}

// The engine folds each environment's actions in <details>; a plan that fits on a screen is easier read open.
function unfoldShort(parts) {
  if (parts.length !== 1 || parts[0].split("\n").length > FOLD_LINES) {
    return parts;
  }
  return [parts[0].replace(/^<details><summary>[^\n]*<\/summary>\n\n?/gm, "").replace(/\n\n<\/details>\n/g, "\n")];
}

// An inline code span that holds any text (a branch name may contain backticks).
function code(text) {
  const value = String(text).replace(/[\r\n]+/g, " ");
  const fence = "`".repeat(Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}

function footer({ context, planned, hasChanges, environments }) {
  const pr = context.payload?.pull_request;
  const short = (sha) => String(sha ?? "").slice(0, 7);
  const lines = ["", "---", ""];
  if (planned) {
    const names = String(environments ?? "").split(/\s+/).filter(Boolean);
    lines.push(hasChanges === "true" && names.length > 0
      ? `**Merging applies this plan to:** ${names.map(code).join(", ")}.`
      : "**Nothing will change on merge.**", "");
  }
  const commit = pr ? `${code(short(pr.head?.sha))} (this pull request) merged into ${code(pr.base?.ref ?? "")} ` +
    `at ${code(short(context.sha))}` : code(short(context.sha));
  const run = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
  lines.push(`<sub>Planned ${commit} · [workflow run](${run})</sub>`, "");
  return lines.join("\n");
}

// The footer closes the last part; when that part has no room left (the engine fills parts up to the limit), it
// takes one more comment of its own rather than cutting the plan.
function withFooter(parts, text) {
  const last = parts[parts.length - 1];
  if (length(last) + length(text) <= LIMIT) {
    return [...parts.slice(0, -1), last + text];
  }
  const n = parts.length + 1;
  return [...parts, `${MARKER} part ${n}/${n} -->\n## modelops plan (continued)\n${text}`];
}

async function listComments(github, params) {
  const comments = [];
  for (let page = 1; ; page += 1) {
    const { data } = await github.rest.issues.listComments({ ...params, per_page: PER_PAGE, page });
    comments.push(...data);
    if (data.length < PER_PAGE) {
      return comments;
    }
  }
}

function isOurs(comment) {
  return comment.user?.type === "Bot" && OURS.test(comment.body ?? "");
}

async function stickyComment({ github, context, core, planFile, mergeOutcome, validateOutcome, planOutcome,
                               hasChanges, environments }) {
  const { parts: plan, planned } = planParts({ planFile, mergeOutcome, validateOutcome, planOutcome }, core);
  const parts = withFooter(plan, footer({ context, planned, hasChanges, environments }));
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const done = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
  try {
    const ours = (await listComments(github, { owner, repo, issue_number })).filter(isOurs);
    for (const [i, body] of parts.entries()) {
      if (!ours[i]) {
        await github.rest.issues.createComment({ owner, repo, issue_number, body });
        done.created += 1;
      } else if (ours[i].body === body) {
        done.unchanged += 1;
      } else {
        await github.rest.issues.updateComment({ owner, repo, comment_id: ours[i].id, body });
        done.updated += 1;
      }
    }
    for (const old of ours.slice(parts.length)) {
      await github.rest.issues.deleteComment({ owner, repo, comment_id: old.id });
      done.deleted += 1;
    }
  } catch (error) {
    if (error.status !== 403) {
      throw error;
    }
    core.warning(`this workflow's token may not comment on the pull request (${error.message}); ` +
                 "the plan is in the job summary");
    return { parts: parts.length, ...done, forbidden: true };
  }
  core.info(`plan comment: ${parts.length} part(s) (${done.created} created, ${done.updated} updated, ` +
            `${done.unchanged} unchanged, ${done.deleted} deleted), has_changes=${hasChanges || "n/a"}`);
  return { parts: parts.length, ...done };
}

module.exports = stickyComment;
module.exports.splitParts = splitParts;
module.exports.MARKER = MARKER;
module.exports.LIMIT = LIMIT;
module.exports.FOLD_LINES = FOLD_LINES;
