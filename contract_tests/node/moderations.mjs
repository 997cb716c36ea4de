// The openai Node SDK through the shim: moderations of strings with OpenAI's default model.
// Run by contract_tests/test_node.py with SHIM_URL set; prints one JSON line of what it saw.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.SHIM_URL}/v1`, apiKey: process.env.SHIM_KEY, maxRetries: 0 });
const answer = await client.moderations.create({ input: ["Have a nice day.", "I will hurt you."] });
const result = answer.results[0];
console.log(JSON.stringify({
  id: answer.id, results: answer.results.length, categories: Object.keys(result.categories).sort(),
  scores: Object.keys(result.category_scores).length, flagged: typeof result.flagged,
  mistral: Object.keys(result.mistral_category_scores ?? {}).sort(),
}));
