/* Grid workers' pages (yidi/grid): progressive enhancement only, CSP-safe (no eval, no inline code).
 * Without this file every form still works: all sections show and the code is typed by hand.
 *
 *   data-show-when="NAME=VALUE"   show the block only while the radio NAME of its form has VALUE checked
 *   data-geolocate                button (hidden until supported) that fills the form's hidden latitude and
 *                                 longitude inputs from the Geolocation API; [data-geolocate-status] says how
 *   data-scan-start="INPUT_ID"    button (hidden until BarcodeDetector and a camera exist) that opens
 *                                 [data-scan-view] with [data-scan-video], reads a QR code or barcode,
 *                                 puts it in the input and submits the form; [data-scan-stop] closes it
 */
(function () {
  "use strict";

  // ---- show-when --------------------------------------------------------------------------------
  function refreshShowWhen(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (block) {
      var parts = block.getAttribute("data-show-when").split("=");
      var checked = form.querySelector('input[name="' + parts[0] + '"]:checked');
      block.hidden = !(checked && checked.value === parts[1]);
    });
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-when]")) {
      refreshShowWhen(form);
    }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && event.target.type === "radio" && form.querySelector("[data-show-when]")) {
      refreshShowWhen(form);
    }
  });

  // ---- current position ---------------------------------------------------------------------------
  document.querySelectorAll("[data-geolocate]").forEach(function (button) {
    if ("geolocation" in navigator) {
      button.hidden = false;
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-geolocate]") : null;
    if (!button) {
      return;
    }
    var form = button.form;
    var status = form.querySelector("[data-geolocate-status]");
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    button.disabled = true;
    say("正在获取当前位置…");
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude.toFixed(6);
      var lng = position.coords.longitude.toFixed(6);
      form.querySelector('input[name="latitude"]').value = lat;
      form.querySelector('input[name="longitude"]').value = lng;
      say("已记录定位：" + lat + ", " + lng + "（精度约 " + Math.round(position.coords.accuracy) + " 米）");
      button.disabled = false;
    }, function (error) {
      say(error.code === 1 ? "未获得定位授权，可不填定位直接上报" : "暂时无法定位，可不填定位直接上报");
      button.disabled = false;
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });

  // ---- scan a code ------------------------------------------------------------------------------------
  var canScan = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  var scanning = null; // {stream, view, timer}

  function stopScan() {
    if (!scanning) {
      return;
    }
    window.clearTimeout(scanning.timer);
    scanning.stream.getTracks().forEach(function (track) { track.stop(); });
    scanning.view.hidden = true;
    scanning = null;
  }

  document.querySelectorAll("[data-scan-start]").forEach(function (button) {
    if (canScan) {
      button.hidden = false;
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest && target.closest("[data-scan-stop]")) {
      stopScan();
      return;
    }
    var button = target.closest ? target.closest("[data-scan-start]") : null;
    if (!button || scanning) {
      return;
    }
    var form = button.form;
    var input = document.getElementById(button.getAttribute("data-scan-start"));
    var view = form.querySelector("[data-scan-view]");
    var video = form.querySelector("[data-scan-video]");
    var status = form.querySelector("[data-scan-status]");
    var detector = new window.BarcodeDetector();
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (stream) {
      scanning = {stream: stream, view: view, timer: 0};
      view.hidden = false;
      video.srcObject = stream;
      video.play();
      function look() {
        if (!scanning) {
          return;
        }
        detector.detect(video).then(function (codes) {
          if (codes.length && codes[0].rawValue) {
            input.value = codes[0].rawValue;
            stopScan();
            form.requestSubmit ? form.requestSubmit() : form.submit();
          } else if (scanning) {
            scanning.timer = window.setTimeout(look, 250);
          }
        }).catch(function () {
          if (scanning) {
            scanning.timer = window.setTimeout(look, 500);
          }
        });
      }
      look();
    }).catch(function () {
      if (status) {
        status.textContent = "无法打开摄像头，请手工输入编码";
      }
      view.hidden = false;
      video.hidden = true;
    });
  });
})();
