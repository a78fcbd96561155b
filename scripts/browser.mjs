// What the real-browser checks share: Debian's headless Chromium started without any
// network of its own, and running a check that collects failures instead of stopping
// at the first one.
import { chromium } from "playwright-core";

// runCheck starts the browser, runs check(browser, fail), closes the browser, and
// exits with status 1 after printing every failure, or prints passed.
export async function runCheck(check, failures, passed) {
  const fail = (msg) => failures.push(msg);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    await check(browser, fail);
  } catch (e) {
    fail(e.message.split("\n")[0]);
  } finally {
    await browser.close();
  }
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL ${f}`);
    process.exit(1);
  }
  console.log(passed());
}
