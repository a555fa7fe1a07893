// Times the simulator in V8 (node), as Chromium runs it: build with
//   cargo build --example wasm_simbench --target wasm32-unknown-unknown --profile wasm-release
// then `node scripts/wasm_simbench.mjs WASM [scenario-index 0..2] [seed] [runs]`.
// Prints CPU (user) ms and wall ms per run and their medians.
import fs from "node:fs";
const [file, which = "1", seed = "7", runs = "5"] = process.argv.slice(2);
const mod = await WebAssembly.compile(fs.readFileSync(file));
// wasm-bindgen's placeholder imports are linked in but never called by the simulator.
const imports = {};
for (const i of WebAssembly.Module.imports(mod)) {
  imports[i.module] ??= {};
  imports[i.module][i.name] = () => { throw new Error(`import ${i.module}.${i.name} called`); };
}
const instance = await WebAssembly.instantiate(mod, imports);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = [], wall = [];
let events;
for (let i = 0; i < Number(runs); i++) {
  const c0 = process.cpuUsage(), w0 = performance.now();
  events = instance.exports.run(Number(which), BigInt(seed), 0);
  const c = process.cpuUsage(c0);
  wall.push(performance.now() - w0);
  cpu.push(c.user / 1000);
}
const digest = BigInt.asUintN(64, instance.exports.run(Number(which), BigInt(seed), 1)).toString(16).padStart(16, "0");
console.log(`events ${events} digest ${digest} cpu ${cpu.map(Math.round).join(" ")} wall ${wall.map(Math.round).join(" ")} | median cpu ${Math.round(med(cpu))} ms wall ${Math.round(med(wall))} ms`);
