// The openai Node SDK's Responses API through the shim: a response, a stream, and a function-call round
// trip continued by previous_response_id, as a Node app would write them.
// Run by contract_tests/test_node.py with SHIM_URL set; prints one JSON line of what it saw.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.SHIM_URL}/v1`, apiKey: process.env.SHIM_KEY, maxRetries: 0 });
const model = "mistral-small-latest";
const weather = {
  type: "function",
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

const created = await client.responses.create({ model, input: "Greet a new colleague from Node, in one sentence." });

const stream = client.responses.stream({ model, input: "Describe a river at dusk, from Node." });
const kinds = [];
let streamed = "";
for await (const event of stream) {
  kinds.push(event.type);
  if (event.type === "response.output_text.delta") streamed += event.delta;
}
const final = await stream.finalResponse();
// The helper's final response has no output_text (the SDK adds it to create's answers only): read the items.
const finalText = final.output
  .filter((item) => item.type === "message")
  .flatMap((item) => item.content.filter((part) => part.type === "output_text").map((part) => part.text))
  .join("");

const asked = await client.responses.create({
  model,
  input: "What's the weather in Oslo? Use the get_weather tool.",
  tools: [weather],
});
const call = asked.output.find((item) => item.type === "function_call");
const answered = await client.responses.create({
  model,
  previous_response_id: asked.id,
  tools: [weather],
  input: [{ type: "function_call_output", call_id: call.call_id, output: '{"temperature_c": 4, "sky": "snow"}' }],
});

console.log(
  JSON.stringify({
    id: created.id,
    text: created.output_text,
    status: created.status,
    first: kinds[0],
    last: kinds[kinds.length - 1],
    streamed,
    final: finalText,
    call: call ? { name: call.name, arguments: JSON.parse(call.arguments) } : null,
    answer: answered.output_text,
    answerStatus: answered.status,
  }),
);
