// tabgen ui: progressive enhancement only; every page works as plain forms too.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function focusErrors() {
    var summary = $("error-summary");
    if (summary) { summary.focus(); }
  }

  // -- step 2: show the options of the chosen job, and the expected time ---------------------
  function jobForm() {
    var form = $("job-form");
    if (!form) { return; }
    var radios = form.querySelectorAll("input[name=kind]");
    function kind() {
      var checked = form.querySelector("input[name=kind]:checked");
      return checked ? checked.value : "synthesize";
    }
    function showOptions() {
      var k = kind();
      form.querySelectorAll(".job-options").forEach(function (fs) {
        var on = fs.getAttribute("data-kind") === k;
        fs.hidden = !on;
        fs.disabled = !on;
      });
      estimate();
    }
    var timer = null;
    function estimate() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams({
          kind: kind(), model: $("model").value,
          epochs: $("epochs").value, max_time: $("max_time").value
        });
        fetch(form.getAttribute("data-estimate-url") + "?" + params.toString())
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (d) {
            if (d) { $("estimate-text").textContent = d.text + " (" + d.model + ")"; }
          })
          .catch(function () { /* the estimate is a convenience */ });
      }, 150);
    }
    radios.forEach(function (r) { r.addEventListener("change", showOptions); });
    ["model", "epochs", "max_time"].forEach(function (id) {
      $(id).addEventListener("input", estimate);
      $(id).addEventListener("change", estimate);
    });
    showOptions();
  }

  // -- step 3: poll the job's status --------------------------------------------------------
  function runPage() {
    var box = $("job");
    if (!box) { return; }
    var url = box.getAttribute("data-status-url");
    var lastStage = null;
    window.tabgenSeen = [];
    function seconds(s) {
      if (s === null || s === undefined) { return "–"; }
      if (s < 90) { return Math.round(s) + " s"; }
      return Math.round(s / 60) + " min";
    }
    function show(d) {
      var bar = $("progress");
      bar.value = d.percent;
      bar.textContent = d.percent + " %";
      window.tabgenSeen.push(d.percent);
      $("percent").textContent = d.percent;
      $("stage").textContent = d.stage;
      $("state").textContent = d.state;
      $("epoch").textContent = d.epoch === null ? "–" : d.epoch + " / " + d.epochs;
      $("eta").textContent = d.state === "running" ? seconds(d.eta_seconds) : "–";
      var loss = Object.keys(d.loss || {}).map(function (k) { return k + " " + d.loss[k].toPrecision(4); });
      $("loss").textContent = loss.length ? loss.join(", ") : "–";
      $("queue").textContent = d.queue_position ? "position " + d.queue_position + " (one job runs at a time)" : "–";
      if (d.stage !== lastStage) {
        $("announce").textContent = d.stage;
        lastStage = d.stage;
      }
      var active = d.state === "queued" || d.state === "running";
      $("cancel-button").disabled = !active;
      if (d.error) { $("job-error").textContent = d.error; $("job-error").hidden = false; }
      if (d.state === "done") {
        $("next").hidden = false;
        $("results-link").focus();
      }
      if (d.state === "failed" || d.state === "cancelled") {
        $("again").hidden = false;
        $("again-link").focus();
      }
      return active;
    }
    function poll() {
      fetch(url, { cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (d) { if (show(d)) { setTimeout(poll, 250); } })
        .catch(function () { setTimeout(poll, 1000); });
    }
    $("cancel-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("cancel-button").disabled = true;
      $("announce").textContent = "cancelling";
      fetch($("cancel-form").action, { method: "POST", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.json(); })
        .then(show);
    });
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrors();
    jobForm();
    runPage();
  });
})();
