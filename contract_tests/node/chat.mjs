// The openai Node SDK through the shim: a chat answer and a stream, as a Node app would make them.
// Run by contract_tests/test_node.py with SHIM_URL set; prints one JSON line of what it saw.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.SHIM_URL}/v1`, apiKey: process.env.SHIM_KEY, maxRetries: 0 });
const messages = [{ role: "user", content: "Say hello." }];

const answer = await client.chat.completions.create({ model: "mistral-small-latest", messages });
let streamed = "";
const stream = await client.chat.completions.create({ model: "mistral-small-latest", messages, stream: true });
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? "";
}
console.log(JSON.stringify({ text: answer.choices[0].message.content, finish: answer.choices[0].finish_reason, streamed }));
