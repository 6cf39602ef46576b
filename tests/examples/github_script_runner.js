// Runs one actions/github-script `script:` block under node, as the action does (an async function
// of require, github, context, core), with a fake `github` over the data the test passes.
// Input (stdin, JSON): {script, context, data: {comments, pulls, runs, artifacts, issues}}.
// Output (stdout, JSON): {calls: [[method, params]], outputs: {}, failed: null | message}.
// A list method called directly answers its first page (30 items) only, as the REST API does;
// github.paginate answers every item.
'use strict';

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const data = input.data;
const calls = [];
const outputs = {};
let failed = null;

function list(name, items) {
  const method = async (params) => {
    calls.push([name, params]);
    return { data: items(params).slice(0, 30) };
  };
  method.all = (params) => items(params);
  return method;
}

function write(name) {
  return async (params) => {
    calls.push([name, params]);
    return { data: {} };
  };
}

const github = {
  paginate: async (method, params) => {
    calls.push(['paginate', params]);
    return method.all(params);
  },
  rest: {
    issues: {
      listComments: list('issues.listComments', () => data.comments || []),
      updateComment: write('issues.updateComment'),
      createComment: write('issues.createComment'),
      listForRepo: list('issues.listForRepo', () => data.issues || []),
      create: write('issues.create'),
    },
    repos: {
      listPullRequestsAssociatedWithCommit: list('repos.listPullRequestsAssociatedWithCommit',
        () => data.pulls || []),
    },
    actions: {
      listWorkflowRuns: list('actions.listWorkflowRuns',
        (p) => (data.runs || []).filter((r) => r.head_sha === p.head_sha && r.workflow === p.workflow_id)),
      listWorkflowRunArtifacts: async (params) => {
        calls.push(['actions.listWorkflowRunArtifacts', params]);
        const artifacts = ((data.artifacts || {})[params.run_id] || []).filter((a) => a.name === params.name);
        return { data: { artifacts } };
      },
    },
  },
};

const core = {
  setOutput: (name, value) => { outputs[name] = value; },
  setFailed: (message) => { failed = message; },
  info: () => {},
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', input.script)(require, github, input.context, core)
  .then(() => process.stdout.write(JSON.stringify({ calls, outputs, failed })))
  .catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
