// Opens the interactive API docs of a running server in headless Chromium and checks
// what a person would see: every enabled module's tag (from the server's own
// /openapi.json) with its operations, the API title, one operation opened with its
// documented statuses, no script error, no blocked resource and no request to any
// other host. Saves a full-page screenshot, and one of the opened operation next to it.
//
// Usage: node docs-check.mjs BASE_URL SCREENSHOT.png
// Environment: CHROMIUM (default /usr/bin/chromium), READY_TIMEOUT_MS (default 120000),
// SERVER_PID (stop waiting when that process has exited).
import { runCheck } from "./browser.mjs";

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error("usage: node docs-check.mjs BASE_URL SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;
const readyTimeout = Number(process.env.READY_TIMEOUT_MS || 120000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitReady polls /readyz until the server answers 200.
async function waitReady() {
  const deadline = Date.now() + readyTimeout;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (process.env.SERVER_PID) {
      try {
        process.kill(Number(process.env.SERVER_PID), 0);
      } catch {
        throw new Error(`the server (pid ${process.env.SERVER_PID}) exited before it was ready`);
      }
    }
    try {
      const r = await fetch(`${origin}/readyz`);
      if (r.ok) return;
      last = `status ${r.status}: ${await r.text()}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(500);
  }
  throw new Error(`the server at ${origin} is not ready after ${readyTimeout} ms (${last})`);
}

// operationsByTag returns, for each tag of the document, its operations.
function operationsByTag(doc) {
  const byTag = new Map(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const tag of op.tags || []) {
        byTag.get(tag)?.push({ method: method.toUpperCase(), path, id: op.operationId, summary: op.summary });
      }
    }
  }
  return byTag;
}

const failures = [];
const fail = (msg) => failures.push(msg);

await waitReady();
const docResp = await fetch(`${origin}/openapi.json`);
if (!docResp.ok) throw new Error(`/openapi.json: status ${docResp.status}`);
const doc = await docResp.json();
const byTag = operationsByTag(doc);
if (byTag.size === 0) fail("the document lists no module tag");

await runCheck(check, failures, () => `docs check passed: ${byTag.size} module tags rendered`);

// check drives the page; failures are collected with fail.
async function check(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (u.protocol === "data:" || u.protocol === "blob:") return;
    requests.push(req.url());
    if (u.origin !== origin) fail(`the page requested another host: ${req.url()}`);
  });
  page.on("requestfailed", (req) => fail(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on("response", (resp) => {
    if (resp.status() >= 400) fail(`${resp.url()}: status ${resp.status()}`);
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") fail(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => fail(`script error: ${err.message}`));

  await page.goto(`${origin}/docs`, { waitUntil: "networkidle" });
  await page.waitForSelector(".opblock-tag-section", { timeout: 30000 });

  const title = (await page.locator(".info .title").first().textContent()) || "";
  if (!title.includes(doc.info.title)) fail(`title ${JSON.stringify(title)}, want ${doc.info.title}`);

  for (const [tag, ops] of byTag) {
    const header = page.locator(`.opblock-tag[data-tag="${tag}"]`);
    if ((await header.count()) === 0 || !(await header.first().isVisible())) {
      fail(`module tag ${tag} is not rendered`);
      continue;
    }
    let shown = 0;
    for (const op of ops) {
      const block = page.locator(`#operations-${tag}-${op.id}`);
      if ((await block.count()) > 0 && (await block.first().isVisible())) {
        shown++;
      } else {
        fail(`operation ${op.id} (${op.method} ${op.path}) of ${tag} is not rendered`);
      }
    }
    if (shown === 0) fail(`no operation of ${tag} is rendered`);
    console.log(`tag ${tag}: ${shown}/${ops.length} operations rendered`);
  }

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);

  // Open one operation and check that its documented statuses are listed.
  const [firstTag, firstOps] = [...byTag][0] || [];
  if (firstOps?.length) {
    const op = firstOps[0];
    const block = page.locator(`#operations-${firstTag}-${op.id}`);
    await block.locator(".opblock-summary").first().click();
    await block.locator(".responses-table").first().waitFor({ timeout: 10000 });
    const documented = Object.keys(doc.paths[op.path][op.method.toLowerCase()].responses);
    const listed = await block.locator("tr.response").evaluateAll((rows) => rows.map((r) => r.dataset.code));
    const missing = documented.filter((c) => !listed.includes(c));
    if (missing.length > 0) fail(`${op.id}: statuses ${missing.join(", ")} not listed (listed: ${listed.join(", ")})`);
    console.log(`opened ${op.id}: statuses ${listed.join(", ")}`);
    const opShot = screenshot.replace(/(\.png)?$/, "-operation.png");
    await block.scrollIntoViewIfNeeded();
    await page.screenshot({ path: opShot });
    console.log(`screenshot of ${op.id}: ${opShot}`);
  }
  console.log(`requests made by the page: ${requests.length}`);
}
