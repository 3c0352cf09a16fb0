/* The tablet's vault: drafts and reference data in IndexedDB, encrypted at rest with AES-GCM
   under a key derived from the assistant's PIN (PBKDF2, SHA-256). Only the draft's key, kind,
   state and the times stay readable, so the list can be counted; names and ID numbers are
   inside the sealed box. A lost tablet without the PIN shows no ID number in plain text. */
(function () {
  "use strict";
  var DB_NAME = "dk-tablet";
  var ITERATIONS = 310000;
  var CHECK = "dengkou-aid-vault";
  var key = null;
  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = idb.openDB(DB_NAME, 1, {
        upgrade: function (d) {
          d.createObjectStore("meta");
          d.createObjectStore("drafts", { keyPath: "key" });
        },
      });
    }
    return dbPromise;
  }

  function storageError(error) {
    if (error && (error.name === "QuotaExceededError" || /quota/i.test(String(error.message)))) {
      return new Error(
        "本机存储空间已满，草稿未能保存。页面上填写的内容仍在，请勿关闭；请先联网同步或删除不需要的草稿后再保存。"
      );
    }
    return error;
  }

  async function derive(pin, salt) {
    var base = await crypto.subtle.importKey(
      "raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]
    );
    return crypto.subtle.deriveKey(
      { name: "PBKDF2", salt: salt, iterations: ITERATIONS, hash: "SHA-256" },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"]
    );
  }

  async function seal(value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var plain = new TextEncoder().encode(JSON.stringify(value));
    var data = await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, plain);
    return { iv: iv, data: data };
  }

  async function unseal(box) {
    var plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data);
    return JSON.parse(new TextDecoder().decode(plain));
  }

  async function put(store, value, id) {
    try {
      return await (await db()).put(store, value, id);
    } catch (error) {
      throw storageError(error);
    }
  }

  function requireKey() {
    if (!key) throw new Error("请先输入解锁码解锁。");
  }

  var Vault = {
    hasPin: async function () {
      return !!(await (await db()).get("meta", "salt"));
    },
    setPin: async function (pin) {
      var salt = crypto.getRandomValues(new Uint8Array(16));
      key = await derive(pin, salt);
      await put("meta", salt, "salt");
      await put("meta", await seal(CHECK), "check");
    },
    unlock: async function (pin) {
      var d = await db();
      var salt = await d.get("meta", "salt");
      var check = await d.get("meta", "check");
      key = await derive(pin, salt);
      try {
        if ((await unseal(check)) !== CHECK) throw new Error();
      } catch (error) {
        key = null;
        throw new Error("解锁码不正确。");
      }
    },
    lock: function () {
      key = null;
    },
    unlocked: function () {
      return !!key;
    },
    // A draft: {key, kind, state, made_at, message, ...} readable; `payload` and `label` sealed.
    saveDraft: async function (draft) {
      requireKey();
      var record = {
        key: draft.key,
        kind: draft.kind,
        state: draft.state || "pending",
        made_at: draft.made_at,
        saved_at: new Date().toISOString(),
        message: draft.message || "",
        box: await seal({ label: draft.label, payload: draft.payload, extra: draft.extra || {} }),
      };
      await put("drafts", record);
      return record;
    },
    drafts: async function () {
      requireKey();
      var rows = await (await db()).getAll("drafts");
      var out = [];
      for (var i = 0; i < rows.length; i++) {
        var opened = await unseal(rows[i].box);
        out.push(Object.assign({}, rows[i], opened, { box: undefined }));
      }
      out.sort(function (a, b) { return a.made_at < b.made_at ? -1 : 1; });
      return out;
    },
    draft: async function (draftKey) {
      requireKey();
      var row = await (await db()).get("drafts", draftKey);
      if (!row) return null;
      return Object.assign({}, row, await unseal(row.box), { box: undefined });
    },
    deleteDraft: async function (draftKey) {
      return (await db()).delete("drafts", draftKey);
    },
    saveReference: async function (data) {
      requireKey();
      await put("meta", await seal(data), "reference");
    },
    reference: async function () {
      requireKey();
      var box = await (await db()).get("meta", "reference");
      return box ? unseal(box) : null;
    },
    // Rough figures for the storage line; a browser without the API answers null.
    estimate: async function () {
      if (!navigator.storage || !navigator.storage.estimate) return null;
      return navigator.storage.estimate();
    },
  };
  window.Vault = Vault;
})();
