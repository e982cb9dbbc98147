// hotline console: a live call between two consoles (WebRTC).
// Media flows browser to browser (DTLS-SRTP); the signalling — greeting,
// offer, answer, ICE candidates, goodbye — goes through the two nodes.
"use strict";

(function () {
  var cfg = JSON.parse(document.getElementById("call-config").textContent);
  var joinBtn = document.getElementById("join");
  var hangBtn = document.getElementById("hangup");
  var statusEl = document.getElementById("call-status");
  var localVideo = document.getElementById("local-video");
  var remoteVideo = document.getElementById("remote-video");

  // What tests and curious operators can look at.
  var call = (window.hotlineCall = {
    pc: null, stream: null, joined: false, connectedAt: null, endedAt: null,
    peer: null, theirName: null, recorded: null, sid: Math.random().toString(36).slice(2)
  });
  var pending = []; // ICE candidates that came before the remote description

  function status(text, cls) {
    statusEl.textContent = text;
    statusEl.className = "state " + (cls || "muted");
  }

  function signal(kind, data) {
    return fetch("/calls/" + encodeURIComponent(cfg.call) + "/signal", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify({ kind: kind, data: data || null })
    }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { status("Signalling refused: " + t, "bad"); });
    }).catch(function () { status("Signalling failed: is the node reachable?", "bad"); });
  }

  function newPeer() {
    if (call.pc) call.pc.close();
    var pc = (call.pc = new RTCPeerConnection({ iceServers: cfg.iceServers || [] }));
    call.stream.getTracks().forEach(function (t) { pc.addTrack(t, call.stream); });
    pc.onicecandidate = function (e) { if (e.candidate) signal("candidate", e.candidate.toJSON()); };
    pc.ontrack = function (e) { if (remoteVideo.srcObject !== e.streams[0]) remoteVideo.srcObject = e.streams[0]; };
    pc.onconnectionstatechange = function () {
      var s = pc.connectionState;
      if (s === "connected") {
        if (!call.connectedAt) call.connectedAt = new Date();
        status("connected with " + (call.theirName || cfg.them), "ok");
      } else if (s === "failed") {
        status("connection failed: the browsers could not reach each other (a STUN/TURN server may be needed)", "bad");
      } else if (s === "disconnected") {
        status("connection interrupted…", "pending");
      } else if (s !== "closed") {
        status(s + "…", "pending");
      }
    };
    return pc;
  }

  function offer() {
    var pc = newPeer();
    return pc.createOffer()
      .then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { return signal("offer", pc.localDescription.toJSON()); });
  }

  function flushCandidates() {
    var pc = call.pc;
    pending.splice(0).forEach(function (c) { pc.addIceCandidate(c).catch(function () {}); });
  }

  function onSignal(s) {
    if (s.call !== cfg.call || !call.joined) return;
    var d = s.data || {};
    if (s.kind === "hello") {
      call.theirName = d.name || null;
      if (d.sid && d.sid !== call.peer) {
        var fresh = call.peer !== null;
        call.peer = d.sid;
        // Greet back once per remote session, so whoever joined first learns of us.
        signal("hello", { name: cfg.name, sid: call.sid });
        if (cfg.offerer && (fresh || !call.pc || call.pc.connectionState !== "connected")) offer();
      }
    } else if (s.kind === "offer") {
      var pc = newPeer();
      pc.setRemoteDescription(d)
        .then(function () { flushCandidates(); return pc.createAnswer(); })
        .then(function (a) { return pc.setLocalDescription(a); })
        .then(function () { return signal("answer", pc.localDescription.toJSON()); })
        .catch(function (e) { status("could not answer the offer: " + e, "bad"); });
    } else if (s.kind === "answer") {
      if (call.pc) call.pc.setRemoteDescription(d).then(flushCandidates)
        .catch(function (e) { status("could not take the answer: " + e, "bad"); });
    } else if (s.kind === "candidate") {
      if (call.pc && call.pc.remoteDescription) call.pc.addIceCandidate(d).catch(function () {});
      else pending.push(d);
    } else if (s.kind === "bye") {
      end(false);
    }
  }

  function join() {
    joinBtn.disabled = true;
    status("asking for camera and microphone…", "pending");
    navigator.mediaDevices.getUserMedia({ audio: true, video: !!cfg.video })
      .then(function (stream) {
        call.stream = stream;
        localVideo.srcObject = stream;
        call.joined = true;
        joinBtn.hidden = true;
        hangBtn.hidden = false;
        status("waiting for " + cfg.them + " to join…", "pending");
        return signal("hello", { name: cfg.name, sid: call.sid });
      })
      .catch(function (e) {
        joinBtn.disabled = false;
        status("no camera or microphone: " + e.message, "bad");
      });
  }

  // Each side writes its own record of the call once it ends.
  function end(initiated) {
    if (!call.joined) return;
    call.joined = false;
    call.endedAt = new Date();
    if (initiated) signal("bye", null);
    if (call.pc) call.pc.close();
    if (call.stream) call.stream.getTracks().forEach(function (t) { t.stop(); });
    hangBtn.hidden = true;
    var start = call.connectedAt || call.endedAt;
    status(initiated ? "you hung up; writing the record…" : cfg.them + " hung up; writing the record…", "muted");
    var participants = [cfg.name];
    if (call.theirName) participants.push(call.theirName);
    fetch("/calls/" + encodeURIComponent(cfg.call) + "/ended", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify({
        start: start.toISOString(), end: call.endedAt.toISOString(),
        participants: participants, after_peer: !initiated
      })
    }).then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return [r.ok, j]; }); })
      .then(function (x) {
        call.recorded = x[0] ? (x[1].id || x[1].note || "") : null;
        status(x[0] ? "call ended; record " + (x[1].id || "kept") : "call ended; the record was refused: " + JSON.stringify(x[1]), x[0] ? "ok" : "bad");
      });
  }

  // The page is refreshed live: once the call is accepted, it can be joined.
  document.addEventListener("hotline:refreshed", function () {
    var w = document.getElementById("call-state-word");
    var state = w ? w.textContent.trim() : "";
    if (state === "accepted" && !call.joined) {
      joinBtn.disabled = false;
      joinBtn.hidden = false;
      var later = document.getElementById("join-later");
      if (later) later.hidden = true;
    }
    var readout = document.getElementById("readout-section");
    if (readout && (state === "accepted" || state === "held")) readout.hidden = false;
  });
  joinBtn.addEventListener("click", join);
  hangBtn.addEventListener("click", function () { end(true); });
  document.addEventListener("hotline:signal", function (e) { onSignal(e.detail); });
  window.addEventListener("pagehide", function () { if (call.joined) end(true); });
})();
