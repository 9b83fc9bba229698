// The reference's side of scripts/bench-jsonata.sh: the same three
// operations as state-language/jsonata/benches/jsonata.rs, on jsonata 2.0.6.
// Prints one JSON line: {"name": nanoseconds per operation (median of 7 runs)}.
'use strict';
const jsonata = require('jsonata');

function kilobyteExpression() {
  const parts = [];
  let i = 0;
  while (parts.join(', ').length < 1000) {
    parts.push(`'k${i}': $sum(order.items[price > ${i}].(price * qty)) + $count(order.items.tags) * ${i}`);
    i++;
  }
  return `{${parts.join(', ')}}`;
}

async function time(iterations, fn) {
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    runs.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  runs.sort((a, b) => a - b);
  return runs[3];
}

async function main() {
  const small = { order: { id: 'A-17', customer: { name: 'Ada', tier: 'gold' } } };
  const lookup = jsonata('order.customer.name');
  const items = [];
  for (let i = 0; i < 10000; i++) items.push({ sku: `p${i}`, price: (i % 97) + 0.5 });
  const big = { items };
  const sum = jsonata('$sum(items.price)');
  const text = kilobyteExpression();
  const out = {
    'path lookup (small document)': await time(200000, () => lookup.evaluate(small)),
    '$sum(items.price), 10,000 items': await time(200, () => sum.evaluate(big)),
    'parse a 1 KB expression': await time(5000, () => jsonata(text)),
  };
  console.log(JSON.stringify(out));
}
main();
