// Drives `tandem serve` with the official `openai` npm client.
//   node openai_client.cjs BASE_URL API_KEY
// Prints one line per check; exits nonzero on the first failure.
const OpenAI = require("openai");
const assert = require("node:assert/strict");

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: apiKey || "none", maxRetries: 0, timeout: 120000 });

// The schema the constrained response must follow, and a validator for it.
const schema = {
  type: "object",
  properties: {
    place: { type: "string", maxLength: 16 },
    year: { type: "integer" },
    season: { enum: ["spring", "summer", "autumn", "winter"] },
    people: { type: "array", items: { type: "string", maxLength: 8 }, maxItems: 2 },
  },
  required: ["place", "year", "season"],
  additionalProperties: false,
};

function validate(doc) {
  assert.equal(typeof doc, "object");
  assert.ok(!Array.isArray(doc) && doc !== null);
  assert.equal(typeof doc.place, "string");
  assert.ok(doc.place.length <= 16);
  assert.ok(Number.isInteger(doc.year));
  assert.ok(schema.properties.season.enum.includes(doc.season));
  if ("people" in doc) {
    assert.ok(Array.isArray(doc.people) && doc.people.length <= 2);
    for (const p of doc.people) assert.equal(typeof p, "string");
  }
  for (const key of Object.keys(doc)) assert.ok(key in schema.properties, `unexpected key ${key}`);
}

async function main() {
  const models = await client.models.list();
  assert.ok(models.data.length === 1 && typeof models.data[0].id === "string");
  const model = models.data[0].id;
  console.log("models.list ok:", model);

  const messages = [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Tell me a story." },
  ];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
  assert.equal(chat.object, "chat.completion");
  assert.equal(chat.choices[0].message.role, "assistant");
  assert.equal(typeof chat.choices[0].message.content, "string");
  assert.ok(["stop", "length"].includes(chat.choices[0].finish_reason));
  assert.ok(chat.usage.completion_tokens > 0 && chat.usage.prompt_tokens > 0);
  console.log("chat ok:", JSON.stringify(chat.choices[0].message.content));

  // Streamed with the same settings: the same text, then usage in the last chunk.
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let streamed = "", chunks = 0, finish = null, usage = null;
  for await (const chunk of stream) {
    ++chunks;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      streamed += choice.delta.content || "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(streamed, chat.choices[0].message.content);
  assert.equal(finish, chat.choices[0].finish_reason);
  assert.ok(chunks > 2);
  assert.equal(usage.completion_tokens, chat.usage.completion_tokens);
  console.log("chat stream ok:", chunks, "chunks");

  const completion = await client.completions.create({
    model, prompt: "Once upon a time", max_tokens: 12, temperature: 0, logprobs: 2,
  });
  assert.equal(completion.object, "text_completion");
  assert.ok(completion.choices[0].text.length > 0);
  assert.equal(completion.choices[0].logprobs.tokens.length, completion.usage.completion_tokens);
  for (const lp of completion.choices[0].logprobs.token_logprobs) assert.ok(lp <= 0);
  console.log("completion ok:", JSON.stringify(completion.choices[0].text));

  const withLogprobs = await client.chat.completions.create({
    model, messages, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = withLogprobs.choices[0].logprobs.content;
  assert.ok(content.length > 0 && content[0].top_logprobs.length === 3);
  // Greedy: the chosen token is the most likely one.
  assert.equal(content[0].token, content[0].top_logprobs[0].token);
  console.log("logprobs ok");

  for (const seed of [1, 2]) {
    const structured = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Where and when was this photo taken?" }],
      max_tokens: 400,
      seed,
      response_format: { type: "json_schema", json_schema: { name: "photo_query", schema, strict: true } },
    });
    const text = structured.choices[0].message.content;
    assert.equal(structured.choices[0].finish_reason, "stop", `did not finish: ${text}`);
    validate(JSON.parse(text));
    console.log("json_schema ok:", text);
  }

  const object = await client.chat.completions.create({
    model, messages, max_tokens: 400, seed: 3, response_format: { type: "json_object" },
  });
  const parsed = JSON.parse(object.choices[0].message.content);
  assert.ok(typeof parsed === "object" && !Array.isArray(parsed));
  console.log("json_object ok");

  // Errors come back as the client's typed errors.
  await assert.rejects(client.chat.completions.create({ model, messages: [] }), (e) => e.status === 400);
  const unauthorized = new OpenAI({ baseURL, apiKey: "wrong-key", maxRetries: 0 });
  if (apiKey) await assert.rejects(unauthorized.models.list(), (e) => e.status === 401);
  console.log("errors ok");
}

main().then(
  () => console.log("ALL OK"),
  (error) => {
    console.error("FAILED:", error);
    process.exit(1);
  },
);
