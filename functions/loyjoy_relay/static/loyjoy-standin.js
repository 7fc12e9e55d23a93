/*! A stand-in for LoyJoy's widget global, for tests and the demo page (not LoyJoy's code).
 *
 * LoyJoy('boot', {bot, process, eventListeners: [fn]}) keeps the listeners and fires
 * "load" (and "open" with {open: true}); LoyJoy('open' | 'hide' | 'show') fire those
 * events; LoyJoy.fire(evt, fields) fires any event. Each listener gets (evt, obj) with obj
 * shaped like LoyJoy's: {bot_id, process_id, process_name, ...fields}, including the
 * email and token LoyJoy sets for a signed-in user when boot got {user: {email, token}}.
 */
(function () {
  'use strict';
  var config = null;

  function fire(evt, fields) {
    if (!config) return 0;
    var obj = { bot_id: config.bot, process_id: config.process || 'demo-process',
      process_name: config.processName || 'Demo experience' };
    if (config.user) { obj.email = config.user.email; obj.token = config.user.token; }
    Object.keys(fields || {}).forEach(function (k) { obj[k] = fields[k]; });
    var listeners = Array.isArray(config.eventListeners) ? config.eventListeners : [];
    listeners.forEach(function (listener) { listener(evt, obj); });
    return listeners.length;
  }

  function LoyJoy(command, options) {
    if (command === 'boot') {
      config = Object.assign({}, options || {});
      fire('load');
      if (config.open) fire('open');
    } else if (command === 'open' || command === 'hide' || command === 'show') {
      fire(command);
    } else if (command === 'remove') {
      config = null;
    }
  }
  LoyJoy.fire = fire;
  window.LoyJoy = LoyJoy;
})();
