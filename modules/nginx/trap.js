// Honeybot's JavaScript trap (served by nginx, see modules/nginx/trap.conf). A client that runs
// this script requests the beacon once per page view, with a query no cache has seen, so the
// access log tells which visitors execute JavaScript. It reads, stores and sends nothing else.
(function () {
  "use strict";
  var nonce = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  var url = "@beaconPath@?n=" + nonce;
  var img = new Image();
  img.src = url;
})();
