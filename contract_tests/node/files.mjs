// The openai Node SDK through the shim: a file uploaded, listed, retrieved, downloaded and deleted.
// Run by contract_tests/test_node.py with SHIM_URL set; prints one JSON line of what it saw.
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ baseURL: `${process.env.SHIM_URL}/v1`, apiKey: process.env.SHIM_KEY, maxRetries: 0 });
const lines = '{"custom_id": "n0", "body": {}}\n';

// {file, purpose}: the Node SDK sends the file part first, the purpose after it.
const uploaded = await client.files.create({ file: await toFile(Buffer.from(lines), "node.jsonl"), purpose: "batch" });
const listed = [];
for await (const file of client.files.list({ purpose: "batch", limit: 2 })) listed.push(file.id);
const retrieved = await client.files.retrieve(uploaded.id);
const content = await (await client.files.content(uploaded.id)).text();
const deleted = await client.files.delete(uploaded.id);
let refused = null;
try {
  await client.files.create({ file: await toFile(Buffer.from("x"), "a.png"), purpose: "vision" });
} catch (error) {
  refused = { status: error.status, param: error.param };
}
console.log(JSON.stringify({
  purpose: uploaded.purpose, status: uploaded.status, listed: listed.includes(uploaded.id),
  filename: retrieved.filename, same: content === lines, deleted: deleted.deleted, refused,
}));
