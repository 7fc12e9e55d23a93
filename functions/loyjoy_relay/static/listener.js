/*! loyjoy-ga4-relay listener: LoyJoy chat events -> the ingest function. docs/listener.md */
(function () {
  'use strict';
  // Safe on any page: everything below is wrapped, nothing throws into the page, and the
  // only global is window.LoyJoyRelay. Target ES2017, no dependencies.
  if (typeof window === 'undefined' || window.LoyJoyRelay) return;

  var PREFIX = 'loyjoy_relay.';
  var REVOKED = 'revoked';                    // the client's last revocation in any bot's chat
  var GRANT = ['profiling_single_opt_in', 'profiling_double_opt_in'];
  var REVOKE = ['profiling_opt_out', 'profiling_single_opt_in_rejected'];
  // Fields taken from LoyJoy's obj, with the ingest contract's length limits. Never email
  // or token (LoyJoy sets them for signed-in users).
  var OBJ_FIELDS = { bot_id: 128, process_id: 512, process_name: 512, sub_process_id: 512,
    sub_process_name: 512, label: 512, url: 2048 };
  var SESSION_TIMEOUT_MS = 30 * 60 * 1000;   // GA4's default session timeout
  var MAX_STORED = 500;                       // unsent events kept in localStorage
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000 - 3600 * 1000;  // ingest refuses events > 7 days old
  var MAX_BODY = 60000;                       // bytes; ingest and sendBeacon allow 64 KiB
  var MAX_BACKOFF_MS = 60000;
  var MAX_RETRY_AFTER_MS = 600000;            // a 429's Retry-After is honoured up to 10 minutes
  var MAX_ATTEMPTS = 10;                      // then the next page load tries again (~8 min)
  var REQUEST_TIMEOUT_MS = 30000;
  var DONE_MEMORY = 1000;
  var SIGNALS = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'];
  var TIME_ZONE = /^[A-Za-z][\w+-]{0,30}(\/[\w+-]{1,30}){0,2}$/;  // as ingest checks it
  var tcf = null;                             // the page's TCF signals, once __tcfapi is seen
  var senders = {};
  var memory = {};                            // stand-in when localStorage is unavailable
  var debugOn = false;
  var scriptSrc = (document.currentScript && document.currentScript.src) || '';

  function debug() {
    if (debugOn && window.console && console.debug) {
      try { console.debug.apply(console, ['[LoyJoyRelay]'].concat([].slice.call(arguments))); } catch (e) { /* ignore */ }
    }
  }

  // ---- storage (localStorage may be missing, blocked or full: fall back to memory) ----
  function load(key) {
    var raw = null;
    if (Object.prototype.hasOwnProperty.call(memory, key)) raw = memory[key];  // newer than storage
    else try { raw = window.localStorage.getItem(PREFIX + key); } catch (e) { raw = null; }
    try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }
  function save(key, value) {
    var raw = JSON.stringify(value);
    try { window.localStorage.setItem(PREFIX + key, raw); delete memory[key]; } catch (e) { memory[key] = raw; }
  }

  // ---- identifiers ----
  function randomInt() {
    try {
      var a = new Uint32Array(1);
      window.crypto.getRandomValues(a);
      return a[0];
    } catch (e) { return Math.floor(Math.random() * 4294967296); }
  }
  function uuid4() {
    try { if (window.crypto && crypto.randomUUID) return crypto.randomUUID(); } catch (e) { /* not a secure context */ }
    var b = [];
    for (var i = 0; i < 16; i++) b.push(randomInt() & 255);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = b.map(function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function cookies() {
    var out = {};
    (document.cookie || '').split(';').forEach(function (part) {
      var i = part.indexOf('=');
      if (i < 0) return;
      var name = part.slice(0, i).trim();
      try { out[name] = decodeURIComponent(part.slice(i + 1).trim()); } catch (e) { out[name] = part.slice(i + 1).trim(); }
    });
    return out;
  }
  function clientIdFromGa(value) {       // GA1.<n>.<a>.<b> -> <a>.<b>
    var p = String(value || '').split('.');
    return p.length >= 4 && /^\d+$/.test(p[p.length - 2]) && /^\d+$/.test(p[p.length - 1])
      ? p.slice(-2).join('.') : null;
  }
  function parseSessionCookie(value) {   // -> {id, last} or null; GS1 positional, GS2 keyed
    var v = String(value || '');
    if (v.indexOf('GS1.') === 0) {
      var p = v.split('.');
      return /^\d+$/.test(p[2] || '') ? { id: p[2], last: Number(p[5]) || 0 } : null;
    }
    if (v.indexOf('GS2.') === 0) {
      var kv = {};
      v.split('.').slice(2).join('.').split('$').forEach(function (t) { if (t) kv[t.charAt(0)] = t.slice(1); });
      return /^\d+$/.test(kv.s || '') ? { id: kv.s, last: Number(kv.t) || 0 } : null;
    }
    return null;
  }
  function gaSessionId(measurementId, jar) {
    if (measurementId) {
      var own = parseSessionCookie(jar['_ga_' + String(measurementId).replace(/^G-/, '')]);
      return own ? own.id : null;
    }
    var best = null;                      // no measurement id: the most recently used stream
    Object.keys(jar).forEach(function (name) {
      if (!/^_ga_[A-Za-z0-9]+$/.test(name)) return;
      var s = parseSessionCookie(jar[name]);
      if (s && (!best || s.last > best.last)) best = s;
    });
    return best ? best.id : null;
  }
  function ownClientId() {
    var id = load('cid');
    if (typeof id !== 'string' || !/^\d+\.\d+$/.test(id)) {
      id = (1000000000 + randomInt() % 1147483647) + '.' + Math.floor(Date.now() / 1000);
      save('cid', id);
    }
    return id;
  }
  function ownSessionId(now) {            // ends after 30 minutes without an event, as GA4's
    var s = load('session');
    if (!s || typeof s.id !== 'string' || !(now - s.last <= SESSION_TIMEOUT_MS)) {
      s = { id: String(Math.floor(now / 1000)), last: now };
    }
    s.last = now;
    save('session', s);
    return s.id;
  }

  // ---- building one event ----
  // Text is cut by code points (as ingest and GA4 count), never inside a character, and
  // half of a surrogate pair already in the page's text becomes U+FFFD: ingest would
  // repair it anyway, but an event never leaves the page invalid.
  function wellFormed(s) {
    return s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g,
      function (m) { return m.length === 2 ? m : '\uFFFD'; });
  }
  function text(value, max) {
    if (typeof value === 'number' && isFinite(value)) value = String(value);
    if (typeof value !== 'string' || !value.length) return null;
    value = wellFormed(value);
    if (value.length <= max) return value;  // UTF-16 units >= code points
    var out = [];
    for (var ch of value) {                  // for..of walks code points
      if (out.length === max) break;
      out.push(ch);
    }
    return out.join('');
  }
  // ---- consent: each bot's last profiling decision, and the client's last revocation ----
  function decision(d) {                  // a stored decision, or null
    return d && (d.profiling === 'granted' || d.profiling === 'denied') && typeof d.at === 'number' && isFinite(d.at)
      ? d : null;
  }
  function later(a, b) {                  // the later decision; on equal times a revocation wins
    if (!a || !b) return a || b;
    if (a.at !== b.at) return a.at > b.at ? a : b;
    return a.profiling === 'denied' ? a : b;
  }
  function stampOf(d) {                   // the stamp names the event that made the decision
    var stamp = { profiling: d.profiling, at: d.at };
    if (typeof d.evt === 'string' && d.evt) stamp.evt = d.evt.slice(0, 64);
    return stamp;
  }
  function migrateRevocations() {         // listeners before 'revoked' kept denials per bot only
    var stored = decision(load(REVOKED));
    var latest = stored;
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var name = window.localStorage.key(i) || '';
        if (name.indexOf(PREFIX + 'consent.') !== 0) continue;
        var d = decision(load(name.slice(PREFIX.length)));
        if (d && d.profiling === 'denied') latest = later(latest, d);
      }
    } catch (e) { /* storage blocked: nothing stored to migrate */ }
    if (latest !== stored) save(REVOKED, latest);
  }
  function consentFor(botId, evt, ts) {
    // The stamp is the later of this bot's last decision and the client's last revocation
    // in any bot's chat: an opt-out anywhere covers every bot's later events.
    var key = 'consent.' + botId;
    var granting = GRANT.indexOf(evt) >= 0;
    if (granting || REVOKE.indexOf(evt) >= 0) {
      var made = { profiling: granting ? 'granted' : 'denied', at: ts, evt: evt };
      save(key, made);
      if (!granting) save(REVOKED, later(decision(load(REVOKED)), made));
    }
    var own = decision(load(key));
    // A grant stored by an older listener names no event, so it grants nothing: it must
    // not hide a revocation made before it (it is kept only for its own record).
    if (own && own.profiling === 'granted' && typeof own.evt !== 'string') own = null;
    var governing = later(own, decision(load(REVOKED)));
    return governing ? stampOf(governing) : null;
  }
  // ---- page context: time zone, screen, the site's consent banner (docs/listener.md) ----
  function timeZone() {
    try { var z = Intl.DateTimeFormat().resolvedOptions().timeZone; return TIME_ZONE.test(z) ? z : null; } catch (e) { return null; }
  }
  function screenSize() {
    var w = window.screen && screen.width, h = window.screen && screen.height;
    return w >= 1 && h >= 1 && w < 1e5 && h < 1e5 ? Math.round(w) + 'x' + Math.round(h) : null;
  }
  function consentMode() {                // dataLayer consent commands; the last update wins
    var dl = window.dataLayer, gen = {}, reg = {}, upd = {}, seen = false;
    for (var i = 0; dl && i < dl.length; i++) {
      try {
        var c = dl[i], v = c && c[0] === 'consent' && c[2];
        if (!v || typeof v !== 'object' || (c[1] !== 'default' && c[1] !== 'update')) continue;
        seen = true;
        SIGNALS.forEach(function (k) {    // a default for some regions counts where it denies
          if (v[k] !== 'granted' && v[k] !== 'denied') return;
          if (c[1] === 'update') upd[k] = v[k]; else if (!v.region) gen[k] = v[k]; else if (v[k] === 'denied') reg[k] = v[k];
        });
      } catch (e) { /* a strange entry */ }
    }
    return seen ? merge(merge(gen, reg, true), upd) : null;
  }
  function merge(a, b, stricter) {        // b over a, or (stricter) denied if either denies
    var out = {};
    SIGNALS.forEach(function (k) {
      var v = stricter ? (a[k] === 'denied' || b[k] === 'denied' ? 'denied' : a[k] || b[k]) : b[k] || a[k];
      if (v) out[k] = v;
    });
    return out;
  }
  function tcfSignals(d) {                // Google's TCF mapping; analytics storage by Purpose 1
    var p = (d.purpose && d.purpose.consents) || {}, g = !!(d.vendor && d.vendor.consents && d.vendor.consents[755]);
    var s = function (ok) { return ok ? 'granted' : 'denied'; };
    return { analytics_storage: s(p[1]), ad_storage: s(p[1] && g), ad_user_data: s(p[1] && p[7] && g),
      ad_personalization: s(p[3] && p[4] && g) };
  }
  function watchTcf() {                   // until the CMP answers, nothing is consented
    if (tcf || typeof window.__tcfapi !== 'function') return;
    tcf = tcfSignals({});
    try {
      window.__tcfapi('addEventListener', 2, function (d, ok) {
        if (ok && d && d.gdprApplies === false) tcf = { none: true };
        else if (ok && d && /^(tcloaded|useractioncomplete|cmpuishown)$/.test(d.eventStatus)) tcf = tcfSignals(d);
      });
    } catch (e) { debug('__tcfapi failed', e); }
  }
  function siteConsent() {                // both on the page: each signal the stricter of the two
    watchTcf();
    var mode = consentMode(), t = tcf && !tcf.none ? tcf : null;
    if (!mode && !t) return null;
    var out = merge(mode || {}, t || {}, true);
    out.source = t ? 'tcf' : 'consent_mode';
    return out;
  }
  function withoutFragment(url) {         // fragments can hold tokens (#access_token=...)
    var i = String(url || '').indexOf('#');
    return i < 0 ? String(url || '') : String(url).slice(0, i);
  }
  function resolveUserId(option) {
    try {
      var v = typeof option === 'function' ? option() : option;
      return text(v, 256);
    } catch (e) { debug('userId option threw', e); return null; }
  }
  function buildEvent(evt, obj, options) {
    var now = Date.now();
    var event = { evt: text(String(evt), 64), event_id: uuid4(), ts: now };
    var source = obj && typeof obj === 'object' ? obj : {};
    Object.keys(OBJ_FIELDS).forEach(function (field) {
      var v = null;
      try { v = text(source[field], OBJ_FIELDS[field]); } catch (e) { /* a getter threw */ }
      if (v !== null) event[field] = v;
    });
    if (!event.bot_id && options.botId) event.bot_id = text(options.botId, 128);
    if (!event.bot_id) return null;       // ingest needs a bot id; nothing to attribute
    var jar = cookies();
    event.client_id = clientIdFromGa(jar._ga) || ownClientId();
    var session = gaSessionId(options.measurementId, jar) || ownSessionId(now);
    if (session) event.session_id = session;
    var user = resolveUserId(options.userId);
    if (user) event.user_id = user;
    var page = { page_location: text(withoutFragment(location.href), 2048), page_title: text(document.title, 512),
      page_referrer: text(withoutFragment(document.referrer), 2048), language: text(navigator.language, 35) };
    Object.keys(page).forEach(function (k) { if (page[k] !== null) event[k] = page[k]; });
    var consent = consentFor(event.bot_id, event.evt, now);
    if (consent) event.consent = consent;
    var more = { time_zone: timeZone(), screen_resolution: screenSize(), site_consent: siteConsent() };
    Object.keys(more).forEach(function (k) { if (more[k]) event[k] = more[k]; });
    return event;
  }
  function pushDataLayer(evt, obj) {      // what the source document's snippet does
    var dl = window.dataLayer;
    if (!dl || typeof dl.push !== 'function') return;
    var o = obj && typeof obj === 'object' ? obj : null;
    dl.push({ evt: evt, bot_id: o && o.bot_id, process_id: o && o.process_id, process_name: o && o.process_name });
  }

  // ---- sending: batches, retries with backoff, kept in localStorage until delivered ----
  function retryAfterMs(response) {       // Retry-After in seconds (ingest sends no dates)
    var value = null;
    try { value = response.headers.get('Retry-After'); } catch (e) { value = null; }
    var seconds = Number(value);
    return value !== null && isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  }
  function byteLength(s) {
    try { return new TextEncoder().encode(s).length; } catch (e) { return unescape(encodeURIComponent(s)).length; }
  }
  function Sender(endpoint, options) {
    this.endpoint = endpoint;
    this.key = 'queue:' + endpoint;
    this.delay = Math.max(0, Number(options.batchDelay) >= 0 ? Number(options.batchDelay) : 1000);
    this.maxBatch = Math.min(200, Math.max(1, Number(options.maxBatch) || 20));
    this.queue = [];
    this.inflight = [];
    this.sending = 0;                     // which send the answer belongs to
    this.done = [];
    this.failures = 0;
    this.timer = null;
    var stored = load(this.key);
    if (Array.isArray(stored)) this.queue = stored.filter(function (e) { return e && typeof e.ts === 'number'; });
    this.trim();
    if (this.queue.length) this.schedule(0);
  }
  Sender.prototype.trim = function () {
    var oldest = Date.now() - MAX_AGE_MS;
    this.queue = this.queue.filter(function (e) { return e.ts >= oldest; });
    if (this.queue.length > MAX_STORED) this.queue = this.queue.slice(this.queue.length - MAX_STORED);
  };
  Sender.prototype.persist = function () {
    // Merge with what other tabs of the site stored; drop what this tab delivered.
    var skip = {};
    var pending = this.inflight.concat(this.queue);
    this.done.concat(pending).forEach(function (e) { skip[e.event_id || e] = true; });
    var stored = load(this.key);
    var others = (Array.isArray(stored) ? stored : []).filter(function (e) {
      return e && e.event_id && !skip[e.event_id];
    });
    var all = others.concat(pending).sort(function (a, b) { return a.ts - b.ts; });
    save(this.key, all.slice(Math.max(0, all.length - MAX_STORED)));
  };
  Sender.prototype.add = function (event) {
    this.queue.push(event);
    this.trim();
    this.persist();
    if (this.failures === 0) this.schedule(this.queue.length >= this.maxBatch ? 0 : this.delay);
  };
  Sender.prototype.schedule = function (ms) {
    var self = this;
    if (this.timer !== null) {
      if (ms > 0) return;                 // a send is already planned
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(function () { self.timer = null; self.send(); }, ms);
  };
  Sender.prototype.take = function () {   // the next batch: at most maxBatch events and MAX_BODY bytes
    var batch = [];
    var size = 40;
    while (this.queue.length && batch.length < this.maxBatch) {
      var n = byteLength(JSON.stringify(this.queue[0])) + 1;
      if (batch.length && size + n > MAX_BODY) break;
      size += n;
      batch.push(this.queue.shift());
    }
    return batch;
  };
  Sender.prototype.body = function (events) {
    return JSON.stringify({ sent_at: Date.now(), events: events });
  };
  Sender.prototype.send = function () {
    var self = this;
    if (this.inflight.length || !this.queue.length || typeof fetch !== 'function') return;
    this.inflight = this.take();
    var sending = ++this.sending;
    var abort = typeof AbortController === 'function' ? new AbortController() : null;
    var timeout = abort ? setTimeout(function () { abort.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var settled = function (status, notBefore) {
      clearTimeout(timeout);
      // The page handed these events to a beacon meanwhile (pagehide): they are delivered.
      if (sending === self.sending) self.settle(status, notBefore || 0);
    };
    try {
      fetch(this.endpoint, { method: 'POST', keepalive: true, credentials: 'omit',
        headers: { 'Content-Type': 'text/plain' }, body: this.body(this.inflight),
        signal: abort ? abort.signal : undefined })
        .then(function (response) { settled(response.status, retryAfterMs(response)); },
          function (error) { debug('network error', error); settled(0); })
        .catch(function (error) { debug('settle failed', error); });
    } catch (e) { debug('fetch threw', e); settled(0); }
  };
  Sender.prototype.settle = function (status, notBefore) {
    var retry = status === 0 || status === 429 || status >= 500;
    if (retry) {
      this.queue = this.inflight.concat(this.queue);
      this.inflight = [];
      this.failures += 1;
      var wait = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.failures - 1));
      // Over a rate limit (429) ingest is up and says when to come back: wait at least that
      // long, and keep trying on this page however often it happens (nothing is dropped).
      wait = Math.max(wait, Math.min(MAX_RETRY_AFTER_MS, notBefore || 0));
      if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
      if (this.failures < MAX_ATTEMPTS || status === 429) {
        debug('status ' + status + ', retrying in ' + wait + ' ms');
        this.schedule(Math.round(wait * (0.8 + 0.4 * (randomInt() / 4294967296))));
      } else {
        debug('status ' + status + ', giving up on this page; kept for the next page load');
      }
    } else {
      if (status >= 300) debug('status ' + status + ', events dropped (not retryable)');
      this.delivered(this.inflight);
      this.inflight = [];
      this.failures = 0;
      if (this.queue.length) this.schedule(0);
    }
    this.persist();
  };
  Sender.prototype.delivered = function (events) {
    var done = this.done;
    events.forEach(function (e) { done.push(e.event_id); });
    if (done.length > DONE_MEMORY) done.splice(0, done.length - DONE_MEMORY);
  };
  Sender.prototype.flush = function () {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    this.send();
  };
  Sender.prototype.beacon = function () {
    // The page is going away (pagehide): hand what is queued, and what is in flight, to
    // sendBeacon. A keepalive fetch still in flight may reach ingest late or not at all;
    // a second copy of its events is harmless (the relay drops duplicates by event_id).
    // Not while ingest is failing: then the events stay in localStorage for the next page
    // load, which can see the answer and retry. A beacon's own answer cannot be read: if
    // ingest refuses it, its events are lost (docs/listener.md, "Delivery").
    if (this.failures > 0 || !navigator.sendBeacon) { this.persist(); return; }
    if (this.inflight.length) {
      this.queue = this.inflight.concat(this.queue);
      this.inflight = [];
      this.sending += 1;                  // the in-flight answer no longer settles anything
    }
    while (this.queue.length) {
      var batch = this.take();
      var ok = false;
      try { ok = navigator.sendBeacon(this.endpoint, this.body(batch)); } catch (e) { ok = false; }
      if (!ok) { this.queue = batch.concat(this.queue); break; }
      this.delivered(batch);
    }
    this.persist();
  };
  Sender.prototype.hidden = function () {
    // A tab switch (visibilitychange to hidden) is not a page leaving: the page may come
    // back, so what is queued leaves with a keepalive fetch, whose answer the page reads:
    // a 503 is retried as any other. If the page is closed instead, pagehide follows and
    // hands the same events to the beacon; if it is discarded silently, localStorage
    // keeps them for the next page load.
    if (this.failures === 0) this.flush();
  };

  function eachSender(method) {
    Object.keys(senders).forEach(function (k) {
      try { senders[k][method](); } catch (e) { debug(method + ' failed', e); }
    });
  }
  function defaultEndpoint() {
    var m = /^(https?:\/\/[^?#]*)\/listener\.js(?:[?#].*)?$/.exec(scriptSrc);
    return m ? m[1] : null;
  }

  function listener(options) {
    var opts = options && typeof options === 'object' ? options : {};
    var sender = null;
    try {
      if (opts.debug) debugOn = true;
      var endpoint = typeof opts.endpoint === 'string' && opts.endpoint ? opts.endpoint : defaultEndpoint();
      if (endpoint) sender = senders[endpoint] || (senders[endpoint] = new Sender(endpoint, opts));
      else debug('no endpoint: events only go to the dataLayer');
    } catch (e) { debug('listener setup failed', e); }
    return function loyjoyRelayListener(evt, obj) {
      try { if (opts.dataLayer !== false) pushDataLayer(evt, obj); } catch (e) { debug('dataLayer push failed', e); }
      try {
        if (!sender || typeof evt !== 'string' || !evt) return;
        var event = buildEvent(evt, obj, opts);
        if (event) sender.add(event);
        else debug('event without bot_id ignored', evt);
      } catch (e) { debug('event failed', e); }
    };
  }

  try { migrateRevocations(); } catch (e) { debug('consent migration failed', e); }
  try { watchTcf(); } catch (e) { debug('TCF failed', e); }
  try {
    window.addEventListener('pagehide', function () { eachSender('beacon'); });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') eachSender('hidden');
    });
    window.addEventListener('online', function () { eachSender('flush'); });
    Object.defineProperty(window, 'LoyJoyRelay', { configurable: false, writable: false, enumerable: false,
      value: Object.freeze({
        version: '1',
        listener: listener,
        flush: function () { eachSender('flush'); }
      }) });
  } catch (e) { /* never throw into the page */ }
})();
