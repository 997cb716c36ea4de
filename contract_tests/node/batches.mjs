// The openai Node SDK through the shim: a chat batch created, polled to completion, its files downloaded.
// Run by contract_tests/test_node.py with SHIM_URL set; prints one JSON line of what it saw.
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ baseURL: `${process.env.SHIM_URL}/v1`, apiKey: process.env.SHIM_KEY, maxRetries: 0 });
const ask = (n, extra = {}) => ({ model: "mistral-small-latest", messages: [{ role: "user", content: `What is ${n} + ${n}?` }], max_tokens: 8, ...extra });
const line = (id, body) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body });
const input = [line("n0", ask(0)), line("n1", ask(1)), line("tool", ask(2, { tools: [{ type: "custom", custom: { name: "grep" } }] }))].join("\n") + "\n";

const file = await client.files.create({ file: await toFile(Buffer.from(input), "node-batch.jsonl"), purpose: "batch" });
let batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
const deadline = Date.now() + 1_800_000;
while (!["completed", "failed", "expired", "cancelled"].includes(batch.status) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  batch = await client.batches.retrieve(batch.id);
}
const read = async (id) => (await (await client.files.content(id)).text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
const output = batch.output_file_id ? await read(batch.output_file_id) : [];
const errors = batch.error_file_id ? await read(batch.error_file_id) : [];
const listed = (await client.batches.list({ limit: 10 })).data.map((b) => b.id);
console.log(JSON.stringify({
  status: batch.status, counts: batch.request_counts,
  answered: output.map((o) => o.custom_id).sort(),
  objects: [...new Set(output.map((o) => o.response.body.object))],
  refused: errors.map((e) => [e.custom_id, e.response.status_code]),
  listed: listed.includes(batch.id),
}));
