// Drives the chat page of `tandem serve` in headless Chromium (playwright-core): types a
// prompt, watches the answer stream in, checks the route badge and the route switch, the
// status bar, Markdown, the cut marker, a failed send, the API key flow, the tools menu,
// Chinese text and the phone layout, and takes screenshots.
//   node chat_page.cjs PAGE_URL SCREENSHOT_PNG EXPECTED_MODEL CHROMIUM KEYED_PAGE_URL API_KEY
// PAGE_URL is a server routed to a cloud that is down (so answers run on the device, and the
// switch is live), with a context that holds a few turns; KEYED_PAGE_URL a server started
// with --api-key API_KEY. Answers the page logic must handle but a tiny model does not give on
// demand (Markdown, finish "length", a failure, the tools' events) come from routes the test
// intercepts, in the formats docs/api.md gives. Prints one line per
// check and "ALL OK"; exits nonzero with the reason on the first failure.
const { chromium } = require("playwright-core");
const assert = require("node:assert/strict");
const path = require("node:path");

const [pageUrl, screenshotPath, expectedModel, executablePath = "/usr/bin/chromium", keyedUrl, apiKey] =
    process.argv.slice(2);
const prompt = "Once upon a time";
const waitLimit = { timeout: 30000 };  // a bound on a broken page, not a timing check
const phoneShot = path.join(path.dirname(screenshotPath), path.basename(screenshotPath, ".png") + "_phone.png");

// The answer arrives in a few milliseconds from a tiny model on loopback; a slow
// link (DevTools network throttling) spreads its events over a second or so, so
// the page is seen mid-stream the way a user on a real network would see it.
const slowLink = { offline: false, latency: 20, downloadThroughput: 16 * 1024, uploadThroughput: -1 };

// Runs in the page: records each distinct text the newest answer holds, as the page's
// own rendering passes see it (a MutationObserver runs between the reads of the stream,
// so every recorded state was on screen).
function recordAnswerStates() {
  window.answerStates = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll("#log .assistant");
    if (!answers.length) return;
    const text = answers[answers.length - 1].dataset.raw;
    if (text && text !== window.answerStates.at(-1)) window.answerStates.push(text);
  }).observe(document.getElementById("log"), { childList: true, subtree: true, characterData: true, attributes: true });
}

async function check(name, body) {
  await body();
  console.log("ok  " + name);
}

// An SSE answer in OpenAI's chunk format, as the server streams it.
function sseAnswer(text, finish, tandem) {
  const chunks = [...text].reduce((parts, c, i) => (i % 6 ? (parts[parts.length - 1] += c) : parts.push(c), parts), []);
  const events = chunks.map((piece) => ({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }], tandem }));
  events.push({ choices: [{ index: 0, delta: {}, finish_reason: finish }], tandem });
  return events.map((e) => "data: " + JSON.stringify(e) + "\n\n").join("") + "data: [DONE]\n\n";
}

// Sends `text` and waits until its answer is done or the page reported an error.
function finishedTurns() {
  return document.querySelectorAll('#log .assistant[data-done="true"]').length + document.querySelectorAll("#log .error").length;
}
async function sendAndWait(page, text) {
  const before = await page.evaluate(finishedTurns);
  await page.locator("#prompt").fill(text);
  await page.click("#send");
  await page.waitForFunction((n) => document.querySelectorAll('#log .assistant[data-done="true"]').length +
                                    document.querySelectorAll("#log .error").length > n, before, waitLimit);
}

async function main() {
  assert.ok(pageUrl && screenshotPath && expectedModel && keyedUrl && apiKey,
            "usage: chat_page.cjs PAGE_URL SCREENSHOT_PNG EXPECTED_MODEL CHROMIUM KEYED_PAGE_URL API_KEY");
  const browser = await chromium.launch({ executablePath, headless: true, timeout: waitLimit.timeout,
                                          args: ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
    page.setDefaultTimeout(waitLimit.timeout);
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    const remote = [];
    page.on("request", (r) => { if (!r.url().startsWith(new URL(pageUrl).origin)) remote.push(r.url()); });
    const sent = [];  // the chat requests' bodies and preference headers
    page.on("request", (r) => {
      if (r.url().endsWith("/v1/chat/completions")) sent.push({ body: JSON.parse(r.postData()), preference: r.headers()["x-tandem-preference"] });
    });

    await check("page loads and shows the model, memory in use and a welcome hint", async () => {
      await page.goto(pageUrl);
      await page.waitForFunction(() => document.getElementById("model").textContent !== "loading" &&
                                       document.getElementById("memory").textContent !== "-", null, waitLimit);
      assert.ok((await page.textContent("#model")).startsWith(expectedModel), await page.textContent("#model"));
      const memory = await page.textContent("#memory");
      assert.match(memory, /^\d+(\.\d+)? MiB$/, "memory in use: " + memory);
      assert.ok(parseFloat(memory) > 0, "memory in use: " + memory);
      assert.match(await page.textContent("#welcome"), /Type a message/);
    });

    await check("the route switch is live on a routed server, auto by default", async () => {
      assert.equal(await page.isDisabled('#route-switch input[value="device-only"]'), false);
      assert.equal(await page.isChecked('#route-switch input[value="auto"]'), true);
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
      assert.equal(await page.locator("#welcome").count(), 0, "the welcome hint stays after the first message");
    });

    let answer = "";
    await check("the answer streams in and completes", async () => {
      await page.waitForSelector('#log .assistant[data-done="true"]', waitLimit);
      const errors = await page.locator("#log .error").allTextContents();
      assert.deepEqual(errors, [], "the page reported an error");
      answer = await page.getAttribute("#log .assistant", "data-raw");
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

    await check("the answer says where it ran and why", async () => {
      const badge = page.locator("#log .assistant .badge").first();
      assert.equal(await badge.textContent(), "on device");
      assert.match(await badge.getAttribute("class"), /\bdevice\b/);
      const why = await page.locator("#log .assistant .why").first().textContent();
      assert.match(why, /^network:/, "the reason of a device answer while the cloud is down: " + why);
    });

    // The figure itself is a speed, which no test asserts: only that the status bar shows one.
    await check("tokens/s is shown", async () => {
      const speed = await page.textContent("#speed");
      assert.match(speed, /^\d+(\.\d+)?$/, "tokens/s: " + speed);
    });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    await check("the switch sets the preference of the next request, and the badge shows it", async () => {
      await page.click('#route-switch label:has(input[value="device-only"])');
      await sendAndWait(page, "The cat");
      assert.equal(sent.at(-1).preference, "device-only");
      const why = await page.locator("#log .assistant .why").last().textContent();
      // The privacy verdict follows the reason (the earlier turns, a story with dialogue, read as a chat log).
      assert.match(why, /^preference:device-only(;privacy:|$)/, why);
      assert.equal(sent.at(-1).body.messages.length, 3, "the second turn carries the first");
      await page.click('#route-switch label:has(input[value="auto"])');
    });

    await check("a failed send leaves no empty bubble and stays out of the history", async () => {
      const bubbles = await page.locator("#log .assistant").count();
      await page.route("**/v1/chat/completions", (route) =>
        route.fulfill({ status: 500, contentType: "application/json",
                        body: JSON.stringify({ error: { message: "the model broke", type: "server_error" } }) }), { times: 1 });
      await sendAndWait(page, "this one fails");
      assert.equal(await page.locator("#log .assistant").count(), bubbles, "an empty answer bubble stayed");
      assert.match(await page.locator("#log .error").last().textContent(), /the model broke/);
      assert.equal(await page.inputValue("#prompt"), "this one fails", "the text is back in the box for a retry");
      await page.locator("#prompt").fill("");
      await sendAndWait(page, "and now it works");
      assert.equal(sent.at(-1).body.messages.length, 5, "the failed turn went into the history");
      assert.ok(!JSON.stringify(sent.at(-1).body.messages).includes("this one fails"));
    });

    await check("Markdown renders (code blocks, lists) and Chinese text has a font", async () => {
      const markdown = "Steps:\n\n1. 打开文件\n2. run `tandem chat`\n\n```sh\necho <b>not html</b>\n```\n- **done**";
      await page.route("**/v1/chat/completions", (route) =>
        route.fulfill({ status: 200, contentType: "text/event-stream", headers: { "X-Tandem-Route": "cloud; reason=difficulty:0.61(booking)" },
                        body: sseAnswer(markdown, "stop", { route: "cloud", reason: "difficulty:0.61(booking)" }) }), { times: 1 });
      await sendAndWait(page, "写一个列表");
      const last = page.locator("#log .assistant").last();
      assert.equal(await last.locator("ol li").count(), 2);
      assert.equal(await last.locator("ul li strong").textContent(), "done");
      assert.equal(await last.locator("pre code").textContent(), "echo <b>not html</b>");
      assert.equal(await last.locator("pre code b").count(), 0, "model text became HTML");
      assert.equal(await last.locator(".badge").textContent(), "cloud");
      assert.equal(await last.locator(".cut").count(), 0, "a finished answer is marked as cut");
      assert.ok(await page.evaluate(() => document.fonts.check("16px 'Noto Sans CJK SC'", "打开文件")),
                "no CJK font: install fonts-noto-cjk");
    });

    await check("an answer cut at max_tokens is marked", async () => {
      await page.route("**/v1/chat/completions", (route) =>
        route.fulfill({ status: 200, contentType: "text/event-stream", headers: { "X-Tandem-Route": "device; reason=difficulty:0.02" },
                        body: sseAnswer("A story that goes on and on", "length", { route: "device", reason: "difficulty:0.02" }) }),
        { times: 1 });
      await sendAndWait(page, "a long story please");
      assert.match(await page.locator("#log .assistant").last().locator(".cut").textContent(), /^cut at max_tokens/);
    });

    await check("the tools menu runs summarize over the documented SSE events", async () => {
      await page.route("**/v1/tandem/tasks", (route) => route.fulfill({ status: 200, contentType: "application/json",
        body: JSON.stringify({ write: [{ task: "email", description: "Write an email", input: "optional" }],
                               summarize: { lengths: ["short", "medium", "long", "bullets"], default_length: "medium" },
                               languages: ["auto", "zh", "en"] }) }));
      let summarizeBody = null;
      await page.route("**/v1/tandem/summarize", (route) => {
        summarizeBody = JSON.parse(route.request().postData());
        const events = [{ type: "route", route: "device", reason: "network:no_cloud;map_reduce", fallback: false },
                        { type: "progress", phase: "map", level: 0, done: 1, total: 2 },
                        { type: "delta", text: "The report says " }, { type: "delta", text: "costs fell." },
                        { type: "done", route: "device", reason: "network:no_cloud;map_reduce", fallback: false, finish: "stop",
                          language: "en", usage: { prompt_tokens: 10, completion_tokens: 4, calls: 3 }, chunks: 2, levels: 1 }];
        route.fulfill({ status: 200, contentType: "text/event-stream", headers: { "X-Tandem-Route": "device; reason=network:no_cloud;map_reduce" },
                        body: events.map((e) => "data: " + JSON.stringify(e) + "\n\n").join("") + "data: [DONE]\n\n" });
      });
      await page.reload();
      await page.waitForSelector("#tools.available", waitLimit);
      await page.selectOption("#tools", "summarize");
      await page.fill("#tool-input", "A long report about costs. ".repeat(20));
      await page.selectOption("#tool-option", "short");
      await page.click("#send");
      await page.waitForSelector('#log .assistant[data-done="true"]', waitLimit);
      assert.equal(summarizeBody.length, "short");
      assert.ok(summarizeBody.text.startsWith("A long report"));
      const last = page.locator("#log .assistant").last();
      assert.equal(await last.getAttribute("data-raw"), "The report says costs fell.");
      assert.equal(await last.locator(".why").textContent(), "network:no_cloud;map_reduce");
      await page.unroute("**/v1/tandem/tasks");
      await page.unroute("**/v1/tandem/summarize");
    });

    await check("no script errors, nothing fetched from elsewhere", async () => {
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(remote, []);
    });
    await page.reload();
    await page.locator("#prompt").fill("");
    await sendAndWait(page, "你好，讲一个故事。Once upon a time");
    await page.screenshot({ path: screenshotPath });
    console.log("screenshot: " + screenshotPath);

    await check("the API key flow: asked for, then the model shows", async () => {
      const keyed = await browser.newPage({ viewport: { width: 1000, height: 640 } });
      await keyed.goto(keyedUrl);
      await keyed.waitForFunction(() => document.getElementById("model").textContent === "enter the API key", null, waitLimit);
      assert.match(await keyed.getAttribute("#key", "class"), /wanted/);
      await keyed.fill("#key", apiKey);
      await keyed.press("#key", "Enter");
      await keyed.waitForFunction(() => !["loading", "enter the API key"].includes(document.getElementById("model").textContent),
                                  null, waitLimit);
      assert.ok((await keyed.textContent("#model")).startsWith(expectedModel));
      await sendAndWait(keyed, prompt);
      assert.equal(await keyed.locator("#log .error").count(), 0, await keyed.locator("#log .error").allTextContents());
      await keyed.close();
    });

    await check("a 390 px phone: Send and Stop on screen, nothing wider than the screen", async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await phone.goto(pageUrl);
      await phone.waitForFunction(() => document.getElementById("model").textContent !== "loading", null, waitLimit);
      await sendAndWait(phone, "你好 Once upon a time");
      for (const id of ["#send", "#stop", "#prompt", "#key", "#route-switch"]) {
        const box = await phone.locator(id).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844,
                  `${id} is off-screen at 390 px: ${JSON.stringify(box)}`);
      }
      const width = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, "the page scrolls sideways: " + width + " px");
      await phone.screenshot({ path: phoneShot });
      console.log("screenshot: " + phoneShot);
      await phone.close();
    });
  } finally {
    await browser.close();
  }
  console.log("ALL OK");
}

main().catch((error) => {
  console.error("FAILED: " + (error && error.message ? error.message : error));
  process.exit(1);
});
