// The console's live parts: the executions table refreshes itself, and events arrive over SSE.
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const rows = document.getElementById("execution-rows");
  async function refresh() {
    try {
      const answer = await fetch("/console/executions?" + params.toString(), {credentials: "same-origin"});
      if (answer.ok) rows.innerHTML = await answer.text();
    } catch (err) { /* the next round tries again */ }
  }
  setInterval(refresh, 2000);

  const list = document.getElementById("event-list");
  const state = document.getElementById("tail-state");
  const tenant = params.get("tenant");
  const source = new EventSource("/console/events" + (tenant ? "?tenant=" + encodeURIComponent(tenant) : ""));
  source.onopen = function () { state.textContent = "live"; };
  source.onerror = function () { state.textContent = "reconnecting…"; };
  source.addEventListener("event", function (message) {
    const seen = JSON.parse(message.data);
    const item = document.createElement("li");
    item.className = "event";
    item.textContent = new Date(seen.at * 1000).toISOString() + "  " + seen.tenant + "  " +
      seen.channel + "  " + seen.event + "  " + seen.data;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
  });
})();
