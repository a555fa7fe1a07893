// Starts the app: imports the wasm-bindgen module and instantiates its
// wasm. Trunk writes their content-hashed names into this script tag's
// data attributes (see pattern_script in Trunk.toml), which keeps every
// script external for the page's Content-Security-Policy.
(() => {
  // The theme the learner chose (ui::theme), before the page paints.
  try {
    const t = localStorage.getItem("obslab.theme.v1");
    if (t === "light" || t === "dark") document.documentElement.setAttribute("data-theme", t);
  } catch {}
  const { js, wasm } = document.currentScript.dataset;
  const fail = (err) => {
    console.error(err);
    // A panic has already shown the crash view.
    if (document.getElementById("crash")) return;
    const boot = document.getElementById("boot");
    if (boot) {
      boot.classList.add("boot--error");
      boot.setAttribute("role", "alert");
      boot.textContent = "The lab could not start in this browser: " + err;
    }
  };
  import(js)
    .then((m) => m.default({ module_or_path: wasm }))
    .catch(fail);
})();
