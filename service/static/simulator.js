// The simulated phone: send texts, poll what the service sent back.
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var options = document.getElementById("options");
  var input = document.getElementById("text");
  var seen = 0;

  function newPhone() {
    var id = "sim-" + Math.random().toString(36).slice(2, 12);
    localStorage.setItem("svar-sim-phone", id);
    return id;
  }
  var phone = localStorage.getItem("svar-sim-phone") || newPhone();
  document.getElementById("phone-id").textContent = phone;

  function bubble(text, who) {
    var li = document.createElement("li");
    li.className = who;
    li.textContent = text;
    thread.appendChild(li);
    li.scrollIntoView({block: "end"});
  }

  function showOptions(list) {
    options.textContent = "";
    (list || []).forEach(function (option) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = option.label;
      button.addEventListener("click", function () { send(option.reply, option.label); });
      options.appendChild(button);
    });
  }

  function post(path, body) {
    return fetch("/simulator" + path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)
    });
  }

  function send(text, shown) {
    if (!text) { return; }
    bubble(shown || text, "me");
    showOptions([]);
    post("/messages", {phone: phone, text: text});
  }

  function poll() {
    post("/inbox", {phone: phone, after: seen})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        data.messages.forEach(function (m) { bubble(m.text, "them"); showOptions(m.options); });
        seen += data.messages.length;
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 1000); });
  }

  document.getElementById("compose").addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value.trim());
    input.value = "";
  });
  document.getElementById("new-phone").addEventListener("click", function () {
    phone = newPhone();
    document.getElementById("phone-id").textContent = phone;
    thread.textContent = "";
    seen = 0;
  });
  poll();
})();
