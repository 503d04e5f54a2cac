// Drives the chat page of `tandem serve` in headless Chromium (playwright-core):
// types a prompt, watches the answer stream in, checks the status bar, screenshots.
//   node chat_page.cjs PAGE_URL SCREENSHOT_PNG EXPECTED_MODEL [CHROMIUM]
// Prints one line per check and "ALL OK"; exits nonzero with the reason on the first failure.
const { chromium } = require("playwright-core");
const assert = require("node:assert/strict");

const [pageUrl, screenshotPath, expectedModel, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const prompt = "Once upon a time";
const waitLimit = { timeout: 30000 };  // a bound on a broken page, not a timing check

// The answer arrives in a few milliseconds from a tiny model on loopback; a slow
// link (DevTools network throttling) spreads its events over a second or so, so
// the page is seen mid-stream the way a user on a real network would see it.
const slowLink = { offline: false, latency: 20, downloadThroughput: 16 * 1024, uploadThroughput: -1 };

// Runs in the page: records each distinct text the newest answer shows, as the
// page's own rendering passes see it (a MutationObserver runs between the reads
// of the stream, so every recorded state was on screen).
function recordAnswerStates() {
  window.answerStates = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll("#log .assistant");
    if (!answers.length) return;
    const text = answers[answers.length - 1].textContent;
    if (text && text !== window.answerStates.at(-1)) window.answerStates.push(text);
  }).observe(document.getElementById("log"), { childList: true, subtree: true, characterData: true });
}

async function check(name, body) {
  await body();
  console.log("ok  " + name);
}

async function main() {
  assert.ok(pageUrl && screenshotPath && expectedModel, "usage: chat_page.cjs PAGE_URL SCREENSHOT_PNG EXPECTED_MODEL [CHROMIUM]");
  const browser = await chromium.launch({ executablePath, headless: true, timeout: waitLimit.timeout,
                                          args: ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
    page.setDefaultTimeout(waitLimit.timeout);
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));

    await check("page loads and shows the model and memory in use", async () => {
      await page.goto(pageUrl);
      await page.waitForFunction(() => document.getElementById("model").textContent !== "loading" &&
                                       document.getElementById("memory").textContent !== "-", null, waitLimit);
      assert.equal(await page.textContent("#model"), expectedModel);
      const memory = await page.textContent("#memory");
      assert.match(memory, /^\d+(\.\d+)? MiB$/, "memory in use: " + memory);
      assert.ok(parseFloat(memory) > 0, "memory in use: " + memory);
    });

    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", slowLink);
    await page.evaluate(recordAnswerStates);

    await check("a typed prompt is sent", async () => {
      await page.locator("#prompt").pressSequentially(prompt);
      await page.click("#send");
      await page.waitForSelector("#log .user", waitLimit);
      assert.equal(await page.textContent("#log .user"), prompt);
    });

    let answer = "";
    await check("the answer streams in and completes", async () => {
      await page.waitForSelector('#log .assistant[data-done="true"]', waitLimit);
      const errors = await page.locator("#log .error").allTextContents();
      assert.deepEqual(errors, [], "the page reported an error");
      answer = await page.textContent("#log .assistant");
      assert.ok(answer.length > 0, "the answer is empty");
      const states = await page.evaluate(() => window.answerStates);
      assert.ok(states.length >= 2, `the answer appeared at once, not streamed (${states.length} state seen)`);
      assert.equal(states.at(-1), answer);
      for (const partial of states.slice(0, -1)) {
        assert.ok(answer.startsWith(partial) && partial.length < answer.length,
                  `a partial answer is not a prefix of the final one: ${JSON.stringify(partial)}`);
      }
      console.log(`    ${states.length} partial states; answer: ${JSON.stringify(answer.slice(0, 60))}...`);
    });

    // The figure itself is a speed, which no test asserts: only that the status bar shows one.
    await check("tokens/s is shown", async () => {
      const speed = await page.textContent("#speed");
      assert.match(speed, /^\d+(\.\d+)?$/, "tokens/s: " + speed);
    });

    await check("no script errors", async () => assert.deepEqual(pageErrors, []));

    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.screenshot({ path: screenshotPath });
    console.log("screenshot: " + screenshotPath);
  } finally {
    await browser.close();
  }
  console.log("ALL OK");
}

main().catch((error) => {
  console.error("FAILED: " + (error && error.message ? error.message : error));
  process.exit(1);
});
