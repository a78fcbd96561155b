// Opens the jobs console (/admin/jobs) of a running server in headless Chromium as a
// person would: the page sends an anonymous browser to the sign-in page, the
// administrator signs in there, and River's UI shows the jobs, among them the periodic
// refresh-token prune that the server's workers ran at start. Checks that nothing is
// blocked by the Content-Security-Policy, that the page requests no other host, and
// that a signed-in non-administrator gets 403 from the console (page and API). Saves a
// screenshot.
//
// Usage: node console-check.mjs BASE_URL SCREENSHOT.png
// Environment: ADMIN_EMAIL, ADMIN_PASSWORD (an existing administrator), CHROMIUM.
import { runCheck } from "./browser.mjs";

const [base, screenshot] = process.argv.slice(2);
const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = process.env;
if (!base || !screenshot || !email || !password) {
  console.error("usage: ADMIN_EMAIL=… ADMIN_PASSWORD=… node console-check.mjs BASE_URL SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;
const failures = [];
const fail = (msg) => failures.push(msg);

// A non-administrator: registered through the API, signed in for a bearer token.
async function userToken() {
  const who = { email: `console-check-${Date.now()}@example.com`, password: "a user who is no admin", display_name: "Not Admin" };
  const reg = await fetch(`${origin}/api/v1/auth/register`, { method: "POST", body: JSON.stringify(who) });
  if (reg.status !== 201) throw new Error(`register: status ${reg.status}`);
  const login = await fetch(`${origin}/api/v1/auth/login`, { method: "POST", body: JSON.stringify(who) });
  if (!login.ok) throw new Error(`login: status ${login.status}`);
  return { ...who, token: (await login.json()).data.access_token };
}

const user = await userToken();
for (const path of ["/admin/jobs/api/jobs?state=completed", "/admin/jobs/"]) {
  const r = await fetch(`${origin}${path}`, { headers: { Authorization: `Bearer ${user.token}`, Accept: "text/html,application/json" } });
  if (r.status !== 403) fail(`non-admin ${path}: status ${r.status}, want 403`);
  else console.log(`non-admin ${path}: 403`);
}
const anon = await fetch(`${origin}/admin/jobs/api/jobs`);
if (anon.status !== 401) fail(`anonymous /admin/jobs/api/jobs: status ${anon.status}, want 401`);

await runCheck(check, failures, () => "console check passed");

async function check(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let requests = 0;
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (u.protocol === "data:" || u.protocol === "blob:") return;
    requests++;
    if (u.origin !== origin) fail(`the page requested another host: ${req.url()}`);
  });
  let expectForbidden = true; // the non-administrator's sign-in is refused with 403
  page.on("requestfailed", (req) => {
    // Requests of a page left by a navigation are aborted.
    if (req.failure()?.errorText !== "net::ERR_ABORTED") fail(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (resp) => {
    const forbiddenSignIn = expectForbidden && resp.status() === 403 && new URL(resp.url()).pathname === "/admin/session";
    if (resp.status() >= 400 && !forbiddenSignIn) fail(`${resp.url()}: status ${resp.status()}`);
  });
  page.on("console", (msg) => {
    // A failed load is reported (with its URL) by the response handler.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) fail(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => fail(`script error: ${err.message}`));

  // A non-administrator who signs in is told so and gets no cookie.
  await page.goto(`${origin}/admin/jobs/`, { waitUntil: "networkidle" });
  if (!new URL(page.url()).pathname.startsWith("/admin/login")) fail(`anonymous browser landed on ${page.url()}, want the sign-in page`);
  await page.fill("#email", user.email);
  await page.fill("#password", user.password);
  await page.click("button[type=submit]");
  await page.locator("#error").waitFor({ state: "visible", timeout: 10000 });
  const refusal = await page.locator("#error").textContent();
  if (!/not an administrator/.test(refusal)) fail(`non-admin sign-in says ${JSON.stringify(refusal)}`);
  console.log(`non-admin sign-in refused: ${refusal}`);

  expectForbidden = false;

  // The administrator signs in and lands on the console.
  await page.fill("#email", email);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${origin}/admin/jobs/**`, { timeout: 15000 }), page.click("button[type=submit]")]);
  console.log(`signed in, at ${page.url()}`);
  await page.goto(`${origin}/admin/jobs/jobs?state=completed`, { waitUntil: "networkidle" });
  await page.getByText("prune_refresh_tokens").first().waitFor({ timeout: 30000 });
  console.log("the console lists the completed prune_refresh_tokens job");
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  console.log(`requests made by the page: ${requests}`);
}
