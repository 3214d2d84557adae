// The plan workflow's sticky pull-request comment, run by actions/github-script after actions/checkout:
//
//   const stickyComment = require("./.github/scripts/sticky-comment.js");
//   await stickyComment({ github, context, core, planFile, validateOutcome, planOutcome, hasChanges });
//
// `modelops plan --format markdown` prints the plan as parts, each starting with a hidden marker line
// `<!-- modelops-plan part N/M -->` and each within GitHub's 65,535-character limit. This posts one comment
// per part: comments written by a bot whose body starts with a part marker are ours, in the order they were
// written (part 1 stays the sticky comment); they are updated in place (left alone when unchanged), missing
// parts are created, and parts that are no longer needed are deleted. Any other comment is never touched.
// tests/acceptance/test_workflow_scripts.py runs this module under node against an in-memory API.
"use strict";

const fs = require("fs");

const MARKER = "<!-- modelops-plan";
const LIMIT = 65535; // characters (code points), as the engine counts them
const PER_PAGE = 100; // the most GitHub returns per page
const OURS = /^<!-- modelops-plan part \d+\/\d+ -->/;
const PART_START = /^(?=<!-- modelops-plan part \d+\/\d+ -->$)/m;
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

function planParts({ planFile, validateOutcome, planOutcome }, core) {
  if (validateOutcome !== "success") {
    return [single(INVALID)];
  }
  if (planOutcome !== "success" || !planFile || !fs.existsSync(planFile)) {
    return [single(FAILED)];
  }
  return splitParts(fs.readFileSync(planFile, "utf8"), core);
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

async function stickyComment({ github, context, core, planFile, validateOutcome, planOutcome, hasChanges }) {
  const parts = planParts({ planFile, validateOutcome, planOutcome }, core);
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const ours = (await listComments(github, { owner, repo, issue_number })).filter(isOurs);
  const done = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
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
  core.info(`plan comment: ${parts.length} part(s) (${done.created} created, ${done.updated} updated, ` +
            `${done.unchanged} unchanged, ${done.deleted} deleted), has_changes=${hasChanges || "n/a"}`);
  return { parts: parts.length, ...done };
}

module.exports = stickyComment;
module.exports.splitParts = splitParts;
module.exports.MARKER = MARKER;
module.exports.LIMIT = LIMIT;
