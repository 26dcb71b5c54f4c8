// Uploads go straight from the browser to the REST API (a Dash callback body is too small
// for a sales export): fetch() with the session cookie and the page's CSRF token. The
// answers are handed to Dash by writing hidden inputs that Dash callbacks listen to.
(function () {
  var chosen = null;

  function byId(id) { return document.getElementById(id); }
  function csrfToken() {
    var holder = byId("csrf-token");
    return holder ? holder.getAttribute("data-token") : "";
  }
  function say(text) { var status = byId("upload-status"); if (status) { status.textContent = text; } }
  function handToDash(id, value) {
    var input = byId(id);
    if (!input) { return; }
    var setter = Object.getOwnPropertyDescriptor(window.HTMLInputElement.prototype, "value").set;
    setter.call(input, value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function choose(file) {
    chosen = file || null;
    say(chosen ? "Chosen: " + chosen.name + " (" + Math.ceil(chosen.size / 1024) + " KB)" : "");
    if (chosen) { handToDash("upload-filename", chosen.name + "|" + Date.now()); }
  }
  // One file input for the whole page, kept out of Dash's tree so re-renders never drop
  // a chosen file; the drop zone opens it.
  function picker() {
    var input = byId("upload-file");
    if (!input) {
      input = document.createElement("input");
      input.type = "file";
      input.id = "upload-file";
      input.accept = ".csv,.txt,.tsv,.xlsx,.parquet,text/csv";
      input.className = "vl-file";
      input.addEventListener("change", function () { if (input.files.length) { choose(input.files[0]); } });
      document.body.appendChild(input);
    }
    return input;
  }
  document.addEventListener("DOMContentLoaded", picker);

  function field(id) { var element = byId(id); return element ? element.value : ""; }

  function send(url, withMapping) {
    if (!chosen) { say("Choose a file first."); return Promise.resolve(null); }
    var form = new FormData();
    form.append("file", chosen, chosen.name);
    form.append("kind", field("upload-kind") || "transactions");
    // A corrected mapping goes with a new check too, so the preview shows its effect.
    if (field("upload-mapping")) { form.append("mapping", field("upload-mapping")); }
    if (withMapping) {
      form.append("mode", field("upload-mode") || "replace");
      if (field("upload-target")) { form.append("target", field("upload-target")); }
    }
    return fetch(url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { say(body.error || ("The server answered " + response.status + ".")); return null; }
        return body;
      });
    }).catch(function () { say("The upload could not reach the server."); return null; });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) { return; }
    if (target.closest("#upload-drop")) {
      picker().click();
    } else if (target.closest("#upload-check")) {
      say("Reading the columns…");
      send("/api/v1/datasets/preview", false).then(function (body) {
        if (body) { say("Check the column mapping below, then upload."); handToDash("upload-preview", JSON.stringify(body)); }
      });
    } else if (target.closest("#upload-start")) {
      say("Uploading…");
      send("/api/v1/datasets", true).then(function (body) {
        if (!body) { return; }
        var job = (body.job && body.job.id) || body.job_id || (body.dataset && body.dataset.job_id);
        say("Uploaded. Processing in the background.");
        if (job) { handToDash("upload-job", String(job)); }
      });
    }
  });
  document.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest("#upload-drop");
    if (zone) { event.preventDefault(); zone.classList.add("vl-drag"); }
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("#upload-drop");
    if (zone) { zone.classList.remove("vl-drag"); }
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("#upload-drop");
    if (!zone) { return; }
    event.preventDefault();
    zone.classList.remove("vl-drag");
    if (event.dataTransfer && event.dataTransfer.files.length) { choose(event.dataTransfer.files[0]); }
  });
}());
