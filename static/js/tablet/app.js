/* The village assistant's tablet: works with no signal. Forms are saved as drafts in the vault
   (vault.js); signatures are drawn with signature_pad; "同步草稿" sends each waiting draft under
   its own key, so a retry after a lost answer files nothing twice. The server's answer decides
   what happens to a draft: accepted (synced), refused (kept to fix) or conflict (shown side by
   side with the household as it is now). Times on this device are kept only as notes. */
(function () {
  "use strict";
  var API = {
    session: "/tablet/api/session/",
    reference: "/tablet/api/reference/",
    application: "/tablet/api/applications/",
    change_report: "/tablet/api/change-reports/",
    spot_reference: "/supervision/tablet/reference/",
    spot_check: "/supervision/tablet/spot-checks/",
  };
  var KIND_LABEL = { application: "委托申请", change_report: "家庭情况变化报告", spot_check: "实地抽查核查表" };
  var STATE_LABEL = {
    pending: "待同步",
    refused: "未通过，待修改",
    conflict: "与服务器冲突",
    synced: "已同步",
  };
  var SIGN_IN = "登录已过期或尚未登录，请先重新登录，再解锁并同步；草稿仍保留在本机。";
  var ROWS = 5;
  var MAX_PHOTOS = 6;
  var PHOTO_EDGE = 1280; // long edge in pixels: a material stays legible, the draft stays small
  var reference = null;
  var pads = [];
  var editing = null; // the key of the draft open in a form, if any
  var conflictKey = null;
  var syncing = false;
  var photos = []; // the photos of the application being filled: [{name, data}]

  function $(selector) { return document.querySelector(selector); }
  function show(id) {
    ["lock", "home", "application", "change", "spot", "conflict"].forEach(function (name) {
      document.getElementById(name).hidden = name !== id;
    });
    window.scrollTo(0, 0);
  }
  function notice(text, bad) {
    var box = $("#notice");
    box.textContent = text || "";
    box.className = "notice" + (bad ? " bad" : "");
  }
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value == null ? "" : String(value);
    if (cls) el.className = cls;
    return el;
  }
  function option(value, label) {
    var el = document.createElement("option");
    el.value = value;
    el.textContent = label;
    return el;
  }
  function age(iso) {
    var minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 1) return "刚刚";
    if (minutes < 60) return minutes + "分钟前";
    if (minutes < 1440) return Math.floor(minutes / 60) + "小时前";
    return Math.floor(minutes / 1440) + "天前";
  }
  async function sha256(value) {
    var digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
    return Array.from(new Uint8Array(digest)).map(function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  function deviceName() {
    var id = localStorage.getItem("dk-tablet-device");
    if (!id) {
      id = crypto.randomUUID().slice(0, 8);
      localStorage.setItem("dk-tablet-device", id);
    }
    return "平板-" + id;
  }

  // --- network and session ---------------------------------------------------------------

  function showNet() {
    var online = navigator.onLine;
    var el = $("#net");
    el.textContent = online ? "在线" : "离线（草稿保存在本机）";
    el.className = "net " + (online ? "on" : "off");
  }

  async function session() {
    var response = await fetch(API.session, { cache: "no-store", credentials: "same-origin" });
    return response.json();
  }

  function signedOut() {
    $("#signin").hidden = false;
    $("#who").textContent = "未登录";
  }

  async function refresh() {
    showNet();
    if (navigator.onLine) {
      try {
        var s = await session();
        if (s.signed_in && (s.assistant || s.supervisor)) {
          $("#signin").hidden = true;
          $("#who").textContent = s.name;
          var url = s.assistant ? API.reference : API.spot_reference;
          var response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
          if (response.ok) {
            reference = await response.json();
            await Vault.saveReference(reference);
          }
        } else {
          signedOut();
        }
      } catch (error) {
        if (error && error.message && error.message.indexOf("存储") >= 0) notice(error.message, true);
      }
    }
    if (!reference) reference = await Vault.reference();
    fillForms();
    await renderDrafts();
  }

  // --- the lock --------------------------------------------------------------------------

  async function setupLock() {
    var first = !(await Vault.hasPin());
    $("#lock-title").textContent = first ? "设置本机解锁码" : "解锁本机草稿";
    $("#lock-help").textContent = first
      ? "首次使用请设置4至8位数字解锁码。草稿用它加密保存在本机，遗失平板也不会泄露身份证号码。"
      : "草稿加密保存在本机，须输入解锁码才能查看和同步。";
    $("#pin2-field").hidden = !first;
    $("#unlock").textContent = first ? "设置并进入" : "解锁";
    show("lock");
    $("#pin").focus();
  }

  async function onUnlock(event) {
    event.preventDefault();
    var pin = $("#pin").value;
    var error = $("#lock-error");
    error.textContent = "";
    if (!/^[0-9]{4,8}$/.test(pin)) {
      error.textContent = "解锁码须为4至8位数字。";
      return;
    }
    try {
      if (!(await Vault.hasPin())) {
        if (pin !== $("#pin2").value) {
          error.textContent = "两次输入的解锁码不一致。";
          return;
        }
        await Vault.setPin(pin);
      } else {
        await Vault.unlock(pin);
      }
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    $("#pin").value = "";
    $("#pin2").value = "";
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    show("home");
    await refresh();
  }

  // --- forms -----------------------------------------------------------------------------

  function fillSelect(select, items, keep) {
    var value = keep ? select.value : "";
    select.replaceChildren();
    items.forEach(function (item) { select.appendChild(option(item[0], item[1])); });
    if (value) select.value = value;
  }

  function fillForms() {
    if (!reference) {
      notice("本机还没有参考数据：请联网登录一次后再离线使用。", true);
      return;
    }
    var supervisor = reference.role === "supervisor";
    document.querySelectorAll("[data-role]").forEach(function (el) {
      el.hidden = el.dataset.role !== (supervisor ? "supervisor" : "assistant");
    });
    if (supervisor) fillSpot();
    var app = $("#application-form");
    fillSelect(app.village, reference.villages.map(function (v) { return [v.id, v.name]; }), true);
    fillSelect(app.kind, reference.kinds.map(function (k) { return [k.value, k.label]; }), true);
    $("#consent-text").textContent = reference.consent_text;
    var change = $("#change-form");
    fillSelect(
      change.household,
      [["", "请选择家庭"]].concat(reference.households.map(function (h) { return [h.id, h.label]; })),
      true
    );
    showHousehold();
  }

  function household(id) {
    return (reference ? reference.households : []).find(function (h) { return String(h.id) === String(id); });
  }

  function snapshotRows(table, rows) {
    table.replaceChildren();
    (rows || []).forEach(function (row) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", row[0]));
      tr.appendChild(text("td", row[1]));
      table.appendChild(tr);
    });
  }

  function showHousehold() {
    var form = $("#change-form");
    var h = household(form.household.value);
    snapshotRows($("#household-snapshot"), h ? h.snapshot : []);
    var keep = form.member.value;
    fillSelect(
      form.member,
      [["", "（不涉及具体成员）"]].concat(
        (h ? h.members : []).map(function (m) { return [m.id, m.name + "（" + m.masked_id + "）"]; })
      )
    );
    form.member.value = keep;
  }

  // --- the field spot-check (county supervisor) ------------------------------------------

  function spotSample(id) {
    return ((reference && reference.spot_samples) || []).find(function (x) { return String(x.id) === String(id); });
  }

  function fillSpot() {
    var form = $("#spot-form");
    fillSelect(
      form.sample,
      [["", "请选择抽查案件"]].concat(reference.spot_samples.map(function (x) { return [x.id, x.label]; })),
      true
    );
    var holder = $("#spot-items");
    if (!holder.childElementCount) {
      reference.check_items.forEach(function (item) {
        var box = document.createElement("fieldset");
        box.className = "check-item";
        box.appendChild(text("legend", item.label));
        [["ok", "无问题"], ["problem", "有问题"]].forEach(function (choice) {
          var label = document.createElement("label");
          var input = document.createElement("input");
          input.type = "radio";
          input.name = item.value + "_ok";
          input.value = choice[0];
          label.append(input, document.createTextNode(choice[1]));
          box.appendChild(label);
        });
        var note = document.createElement("textarea");
        note.name = item.value + "_note";
        note.rows = 2;
        note.maxLength = 2000;
        note.placeholder = "有问题的须说明问题";
        box.appendChild(note);
        holder.appendChild(box);
      });
    }
    showSample();
  }

  function factsTable(title, head, rows) {
    var box = document.createElement("div");
    box.appendChild(text("h3", title));
    var table = document.createElement("table");
    table.className = "snapshot";
    if (head) {
      var tr = document.createElement("tr");
      head.forEach(function (h) { tr.appendChild(text("th", h)); });
      table.appendChild(tr);
    }
    rows.forEach(function (row) {
      var line = document.createElement("tr");
      row.forEach(function (cell, i) { line.appendChild(text(!head && i === 0 ? "th" : "td", cell)); });
      table.appendChild(line);
    });
    box.appendChild(table);
    return box;
  }

  function showSample() {
    var holder = $("#spot-facts");
    holder.replaceChildren();
    var x = spotSample($("#spot-form").sample.value);
    if (!x) return;
    var f = x.facts;
    holder.appendChild(text("p", "抽查批次：" + x.draw, "muted"));
    holder.appendChild(factsTable("审核确认情况", null, f.decision));
    if (f.assessment.length) holder.appendChild(factsTable("收入核算", null, f.assessment));
    holder.appendChild(factsTable("家庭成员", ["姓名", "关系", "公民身份号码", "年龄", "劳动能力", "残疾"],
      f.members.map(function (m) { return [m.name, m.relation, m.id_number, m.age, m.work_ability, m.disability]; })));
    if (f.incomes.length) {
      holder.appendChild(factsTable("收入", ["成员", "类别", "来源", "月收入（元）", "计入情况"],
        f.incomes.map(function (i) { return [i.person, i.kind, i.source, i.monthly_amount, i.counted]; })));
    }
    if (f.assets.length) {
      holder.appendChild(factsTable("财产", ["类别", "价值（元）", "说明"],
        f.assets.map(function (a) { return [a.kind, a.value, a.description]; })));
    }
  }

  function resetSpot() {
    var form = $("#spot-form");
    form.reset();
    showSample();
    $("#spot-error").textContent = "";
  }

  async function saveSpot(event) {
    event.preventDefault();
    var form = event.target;
    var error = $("#spot-error");
    error.textContent = "";
    var x = spotSample(form.sample.value);
    if (!x) {
      error.textContent = "请选择抽查案件。";
      return;
    }
    var results = {};
    var rows = [];
    var missing = [];
    for (var i = 0; i < reference.check_items.length; i++) {
      var item = reference.check_items[i];
      var chosen = form.querySelector("input[name=" + item.value + "_ok]:checked");
      var note = form[item.value + "_note"].value.trim();
      if (!chosen) { missing.push(item.label); continue; }
      if (chosen.value === "problem" && !note) {
        error.textContent = "“" + item.label + "”有问题的，须说明问题。";
        return;
      }
      results[item.value] = { ok: chosen.value === "ok", note: note };
      rows.push([item.label, (chosen.value === "ok" ? "无问题" : "有问题") + (note ? "：" + note : "")]);
    }
    if (missing.length) {
      error.textContent = "请填写以下核查项目：" + missing.join("、") + "。";
      return;
    }
    await keep("spot_check", "实地抽查：" + x.label, { sample: x.id, results: results }, { base_snapshot: rows });
    resetSpot();
  }

  function buildPads() {
    var holder = $("#pads");
    for (var i = 0; i < ROWS; i++) {
      var box = document.createElement("div");
      box.className = "pad";
      box.hidden = true;
      var title = text("p", "", "pad-title");
      var canvas = document.createElement("canvas");
      canvas.width = 600;
      canvas.height = 200;
      canvas.setAttribute("data-row", i);
      var clear = text("button", "清除重签");
      clear.type = "button";
      box.append(title, canvas, clear);
      holder.appendChild(box);
      var pad = new SignaturePad(canvas, { penColor: "#111", minWidth: 1, maxWidth: 3 });
      var entry = { box: box, title: title, pad: pad, signedAt: "" };
      pad.addEventListener("endStroke", function () { this.signedAt = new Date().toISOString(); }.bind(entry));
      clear.addEventListener("click", function () { this.pad.clear(); this.signedAt = ""; }.bind(entry));
      pads.push(entry);
    }
  }

  // 18 or older by the birth date in the ID number (the server decides the same way); null
  // while the number is incomplete.
  function adultByNumber(number) {
    var m = /^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dXx]$/.exec(number);
    if (!m) return null;
    var now = new Date();
    var age = now.getFullYear() - Number(m[1]);
    if (now.getMonth() + 1 < Number(m[2]) || (now.getMonth() + 1 === Number(m[2]) && now.getDate() < Number(m[3]))) age -= 1;
    return age >= 18;
  }

  function signers() {
    var form = $("#application-form");
    var out = [];
    for (var i = 0; i < ROWS; i++) {
      var name = form["m" + i + "_name"].value.trim();
      var byNumber = adultByNumber(form["m" + i + "_id"].value.trim());
      if (byNumber !== null) form["m" + i + "_adult"].checked = byNumber;
      var adult = form["m" + i + "_adult"].checked;
      pads[i].box.hidden = !(name && adult);
      pads[i].title.textContent = name ? name + " 签字：" : "";
      if (name && adult) out.push(i);
    }
    return out;
  }

  // A photo from the camera, scaled down and kept as a JPEG data URL in the (sealed) draft.
  async function shrink(file) {
    var bitmap = await createImageBitmap(file);
    var scale = Math.min(1, PHOTO_EDGE / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return { name: file.name, data: canvas.toDataURL("image/jpeg", 0.8) };
  }

  async function addPhotos(event) {
    var files = Array.from(event.target.files || []);
    var error = $("#application-error");
    error.textContent = "";
    for (var i = 0; i < files.length; i++) {
      if (photos.length >= MAX_PHOTOS) {
        error.textContent = "每份草稿最多附" + MAX_PHOTOS + "张照片。";
        break;
      }
      try {
        photos.push(await shrink(files[i]));
      } catch (failure) {
        error.textContent = "第" + (photos.length + 1) + "张照片无法读取，请重新拍摄。";
      }
    }
    event.target.value = "";
    showPhotos();
  }

  function showPhotos() {
    $("#photo-count").textContent = photos.length ? "已附照片" + photos.length + "张" : "未附照片";
  }

  function resetApplication() {
    var form = $("#application-form");
    form.reset();
    photos = [];
    showPhotos();
    pads.forEach(function (p) { p.pad.clear(); p.signedAt = ""; });
    signers();
    $("#application-error").textContent = "";
  }

  async function saveApplication(event) {
    event.preventDefault();
    var form = event.target;
    var error = $("#application-error");
    error.textContent = "";
    var members = [];
    for (var i = 0; i < ROWS; i++) {
      var name = form["m" + i + "_name"].value.trim();
      var number = form["m" + i + "_id"].value.trim();
      if (!name && !number) continue;
      if (!name || !number) {
        error.textContent = "第" + (i + 1) + "位家庭成员的姓名和公民身份号码须一并填写。";
        return;
      }
      members.push({
        name: name,
        id_number: number,
        relation: form["m" + i + "_relation"].value,
        adult: form["m" + i + "_adult"].checked,
      });
    }
    if (!members.length) {
      error.textContent = "请至少填写申请人本人。";
      return;
    }
    if (!form.entrusted_reason.value.trim()) {
      error.textContent = "请填写委托申请原因。";
      return;
    }
    var signatures = [];
    var rows = signers();
    for (var j = 0; j < rows.length; j++) {
      var entry = pads[rows[j]];
      var who = form["m" + rows[j] + "_name"].value.trim();
      if (entry.pad.isEmpty()) {
        error.textContent = who + "尚未签字。";
        return;
      }
      signatures.push({ name: who, image: entry.pad.toDataURL("image/png"), signed_at: entry.signedAt });
    }
    var payload = {
      kind: form.kind.value,
      village: Number(form.village.value),
      area: form.area.value,
      address: form.address.value.trim(),
      entrusted_reason: form.entrusted_reason.value.trim(),
      members: members,
      consent_text: reference.consent_text,
      consent_hash: await sha256(reference.consent_text),
      signatures: signatures,
      photos: photos,
    };
    await keep("application", "委托申请：" + members[0].name + "户（" + members.length + "人）", payload, {});
    resetApplication();
  }

  async function saveChange(event) {
    event.preventDefault();
    var form = event.target;
    var error = $("#change-error");
    error.textContent = "";
    var h = household(form.household.value);
    if (!h) {
      error.textContent = "请选择家庭。";
      return;
    }
    if (!form.details.value.trim()) {
      error.textContent = "请填写具体情况。";
      return;
    }
    var payload = {
      household: h.id,
      member: form.member.value ? Number(form.member.value) : null,
      kind: form.kind.value,
      details: form.details.value.trim(),
      occurred_on: form.occurred_on.value || null,
      base_version: h.version,
    };
    var kindLabel = form.kind.options[form.kind.selectedIndex].textContent;
    await keep("change_report", "情况变化：" + h.label + "（" + kindLabel + "）", payload, {
      base_snapshot: h.snapshot,
    });
    form.reset();
    showHousehold();
  }

  // Save (or save again, after a fix) a draft; the page keeps what was typed if this fails.
  async function keep(kind, label, payload, extra) {
    var old = editing ? await Vault.draft(editing) : null;
    try {
      await Vault.saveDraft({
        key: old ? old.key : crypto.randomUUID(),
        kind: kind,
        made_at: old ? old.made_at : new Date().toISOString(),
        state: "pending",
        label: label,
        payload: payload,
        extra: extra,
      });
    } catch (failure) {
      notice(failure.message, true);
      throw failure;
    }
    editing = null;
    notice("草稿已保存在本机（待同步）。");
    show("home");
    await renderDrafts();
  }

  // --- the list of drafts ----------------------------------------------------------------

  async function renderDrafts() {
    var drafts = await Vault.drafts();
    var body = $("#drafts");
    body.replaceChildren();
    $("#no-drafts").hidden = drafts.length > 0;
    drafts.forEach(function (d) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-key", d.key);
      tr.setAttribute("data-state", d.state);
      tr.appendChild(text("td", d.label));
      tr.appendChild(text("td", STATE_LABEL[d.state] || d.state, "state state-" + d.state));
      tr.appendChild(text("td", age(d.made_at)));
      tr.appendChild(text("td", d.message));
      var actions = document.createElement("td");
      if (d.state === "pending" || d.state === "refused") actions.appendChild(button("修改", edit, d.key));
      if (d.state === "conflict") actions.appendChild(button("查看冲突", openConflict, d.key));
      if (d.state !== "synced") actions.appendChild(button("删除", remove, d.key));
      else actions.appendChild(button("移除记录", forget, d.key));
      tr.appendChild(actions);
      body.appendChild(tr);
    });
    var estimate = await Vault.estimate();
    var line = "待同步 " + drafts.filter(function (d) { return d.state === "pending"; }).length + " 份";
    if (estimate && estimate.quota) {
      var free = (estimate.quota - estimate.usage) / 1048576;
      line += "；本机可用存储约 " + free.toFixed(0) + " MB";
      if (free < 20) line += "（空间即将用尽，请尽快联网同步）";
    }
    $("#storage").textContent = line;
  }

  function button(label, handler, key) {
    var el = text("button", label);
    el.type = "button";
    el.addEventListener("click", function () { handler(key); });
    return el;
  }

  async function remove(key) {
    if (!window.confirm("删除后无法恢复，确定删除该草稿吗？")) return;
    await Vault.deleteDraft(key);
    await renderDrafts();
  }

  // A synced draft holds no personal data any more; its line goes without asking.
  async function forget(key) {
    await Vault.deleteDraft(key);
    await renderDrafts();
  }

  async function edit(key) {
    var d = await Vault.draft(key);
    editing = key;
    if (d.kind === "application") {
      resetApplication();
      editing = key;
      var form = $("#application-form");
      var p = d.payload;
      ["kind", "village", "area", "address", "entrusted_reason"].forEach(function (name) {
        form[name].value = p[name];
      });
      p.members.forEach(function (m, i) {
        form["m" + i + "_name"].value = m.name;
        form["m" + i + "_id"].value = m.id_number;
        form["m" + i + "_relation"].value = m.relation;
        form["m" + i + "_adult"].checked = m.adult;
      });
      photos = p.photos || [];
      showPhotos();
      signers();
      p.signatures.forEach(function (s) {
        var i = p.members.findIndex(function (m) { return m.name === s.name; });
        if (i >= 0) {
          pads[i].pad.fromDataURL(s.image, { ratio: 1 });
          pads[i].signedAt = s.signed_at;
        }
      });
      $("#application-error").textContent = d.message;
      show("application");
    } else if (d.kind === "spot_check") {
      var spot = $("#spot-form");
      spot.reset();
      spot.sample.value = d.payload.sample;
      showSample();
      Object.keys(d.payload.results).forEach(function (item) {
        var r = d.payload.results[item];
        var radio = spot.querySelector("input[name=" + item + "_ok][value=" + (r.ok ? "ok" : "problem") + "]");
        if (radio) radio.checked = true;
        spot[item + "_note"].value = r.note;
      });
      $("#spot-error").textContent = d.message;
      show("spot");
    } else {
      var change = $("#change-form");
      change.household.value = d.payload.household;
      showHousehold();
      change.member.value = d.payload.member || "";
      change.kind.value = d.payload.kind;
      change.details.value = d.payload.details;
      change.occurred_on.value = d.payload.occurred_on || "";
      $("#change-error").textContent = d.message;
      show("change");
    }
  }

  // --- conflicts -------------------------------------------------------------------------

  async function openConflict(key) {
    var d = await Vault.draft(key);
    conflictKey = key;
    $("#conflict-message").textContent = d.message;
    var was = {};
    (d.extra.base_snapshot || []).forEach(function (row) { was[row[0]] = row[1]; });
    var now = {};
    (d.extra.current || []).forEach(function (row) { now[row[0]] = row[1]; });
    var labels = Object.keys(was);
    Object.keys(now).forEach(function (label) { if (labels.indexOf(label) < 0) labels.push(label); });
    var body = $("#conflict-rows");
    body.replaceChildren();
    labels.forEach(function (label) {
      var tr = document.createElement("tr");
      if (was[label] !== now[label]) tr.className = "changed";
      tr.append(text("th", label), text("td", was[label] || "（无）"), text("td", now[label] || "（无）"));
      body.appendChild(tr);
    });
    // A checklist cannot be sent again over a sample already checked: it can only be dropped.
    $("#resubmit").hidden = d.kind === "spot_check";
    show("conflict");
  }

  async function resubmit() {
    var d = await Vault.draft(conflictKey);
    d.payload.base_version = d.extra.server_version;
    await Vault.saveDraft({
      key: d.key, kind: d.kind, made_at: d.made_at, state: "pending", label: d.label,
      payload: d.payload, extra: { base_snapshot: d.extra.current },
      message: "已核对服务器现状，待重新同步",
    });
    show("home");
    await syncAll();
  }

  async function discard() {
    if (!window.confirm("放弃后该草稿将从本机删除，确定放弃吗？")) return;
    await Vault.deleteDraft(conflictKey);
    show("home");
    await renderDrafts();
  }

  // --- sync ------------------------------------------------------------------------------

  async function send(d, csrf) {
    var response = await fetch(API[d.kind], {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ key: d.key, device: deviceName(), made_at: d.made_at, payload: d.payload }),
    });
    var body = {};
    try { body = await response.json(); } catch (error) { body = {}; }
    return { status: response.status, body: body };
  }

  async function settle(d, answer) {
    var body = answer.body;
    var base = { key: d.key, kind: d.kind, made_at: d.made_at, label: d.label };
    if (answer.status === 200 && body.state === "accepted") {
      // Accepted: the ID numbers leave the device; the receipt stays as a note.
      var when = (body.accepted_at || "").replace("T", " ").slice(0, 16);
      await Vault.saveDraft(Object.assign(base, {
        state: "synced", payload: null, extra: {},
        message: (body.result && body.result.label ? body.result.label + "；" : "") + "服务器接收时间 " + when,
      }));
      return "synced";
    }
    if (answer.status === 409 && body.state === "conflict") {
      await Vault.saveDraft(Object.assign(base, {
        state: "conflict", payload: d.payload, message: body.message,
        extra: { base_snapshot: d.extra.base_snapshot, current: body.result.current, server_version: body.result.version },
      }));
      return "conflict";
    }
    await Vault.saveDraft(Object.assign(base, {
      state: "refused", payload: d.payload, extra: d.extra,
      message: body.message || "提交未通过，请修改后重新同步。",
    }));
    return "refused";
  }

  async function syncAll() {
    if (syncing) return;
    syncing = true;
    var counts = { synced: 0, conflict: 0, refused: 0 };
    try {
      if (!navigator.onLine) {
        notice("当前离线，联网后再同步；草稿仍保留在本机。", true);
        return;
      }
      var s;
      try {
        s = await session();
      } catch (error) {
        notice("无法连接服务器，请稍后再同步；草稿仍保留在本机。", true);
        return;
      }
      if (!s.signed_in) {
        signedOut();
        notice(SIGN_IN, true);
        return;
      }
      var waiting = (await Vault.drafts()).filter(function (d) { return d.state === "pending"; });
      for (var i = 0; i < waiting.length; i++) {
        var answer;
        try {
          answer = await send(waiting[i], s.csrf);
        } catch (error) {
          notice("同步中断：网络连接失败。未完成的草稿仍在本机，再次同步即可，不会重复提交。", true);
          return;
        }
        if (answer.status === 401 || answer.status === 403 && !answer.body.state) {
          signedOut();
          notice(answer.body.message || SIGN_IN, true);
          return;
        }
        counts[await settle(waiting[i], answer)] += 1;
      }
      var summary = "同步完成：已提交 " + counts.synced + " 份";
      if (counts.conflict) summary += "，冲突 " + counts.conflict + " 份（请查看并处理）";
      if (counts.refused) summary += "，未通过 " + counts.refused + " 份（请按说明修改）";
      notice(summary + "。", counts.conflict + counts.refused > 0);
    } finally {
      syncing = false;
      await renderDrafts();
      // How many syncs have finished: lets a tester (or a watcher) tell one run from the next.
      document.body.dataset.syncs = String(Number(document.body.dataset.syncs || 0) + 1);
    }
  }

  // --- start -----------------------------------------------------------------------------

  function start() {
    if ("serviceWorker" in navigator && window.workbox) {
      new workbox.Workbox("/tablet/sw.js", { scope: "/tablet/" }).register();
    }
    showNet();
    window.addEventListener("online", function () {
      showNet();
      if (Vault.unlocked()) {
        notice("网络已恢复。请确认已登录，再点击“同步草稿”。");
        refresh();
      }
    });
    window.addEventListener("offline", function () {
      showNet();
      notice("已离线：可继续填写，草稿加密保存在本机。");
    });
    buildPads();
    signers();
    $("#lock-form").addEventListener("submit", onUnlock);
    $("#application-form").addEventListener("submit", saveApplication);
    $("#application-form").addEventListener("input", signers);
    $("#application-form").photos.addEventListener("change", addPhotos);
    $("#clear-photos").addEventListener("click", function () { photos = []; showPhotos(); });
    $("#change-form").addEventListener("submit", saveChange);
    $("#change-form").household.addEventListener("change", showHousehold);
    $("#spot-form").addEventListener("submit", saveSpot);
    $("#spot-form").sample.addEventListener("change", showSample);
    document.querySelectorAll("[data-open]").forEach(function (el) {
      el.addEventListener("click", function () {
        editing = null;
        if (el.dataset.open === "application") resetApplication();
        if (el.dataset.open === "spot") resetSpot();
        show(el.dataset.open);
      });
    });
    document.querySelectorAll("[data-close]").forEach(function (el) {
      el.addEventListener("click", function () { editing = null; show("home"); });
    });
    $("#sync").addEventListener("click", syncAll);
    $("#relock").addEventListener("click", function () { Vault.lock(); reference = null; setupLock(); });
    $("#resubmit").addEventListener("click", resubmit);
    $("#discard").addEventListener("click", discard);
    setupLock();
  }

  start();
})();
