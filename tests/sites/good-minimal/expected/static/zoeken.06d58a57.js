// Faceted search for the search page (zoeken/), on Pagefind's JavaScript API.
//
// The page works without this script: it then says that search needs JavaScript and links
// to the browse pages. Query and filters live in the URL (?q=…&thema=…), so a search can be
// shared and the back button works. Within one filter group terms combine with OR, across
// groups with AND. Result cards are the list pages' cards, rendered at build time.

const PAGE_SIZE = 20;
const TYPING_DELAY = 300;

class SearchPage {
  constructor(form, pagefind) {
    this.form = form;
    this.pagefind = pagefind;
    this.input = form.querySelector("input[name=q]");
    this.status = form.querySelector("#zoekstatus");
    this.list = form.querySelector("#zoekresultaten");
    this.more = form.querySelector("#meer-resultaten");
    this.groups = [...form.querySelectorAll("fieldset[data-filter]")].map((fieldset) => ({
      name: fieldset.dataset.filter,
      boxes: [...fieldset.querySelectorAll("input[type=checkbox]")],
    }));
    this.results = [];
    this.shown = 0;
    this.run = 0;
    this.typing = false;
    this.timer = 0;
  }

  listen() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.commit(true);
    });
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.commit(!this.typing);
        this.typing = true;
      }, TYPING_DELAY);
    });
    this.form.addEventListener("change", (event) => {
      if (event.target.type === "checkbox") this.commit(true);
    });
    this.form.querySelector("#zoeken-wissen").addEventListener("click", (event) => {
      event.preventDefault();
      this.input.value = "";
      for (const group of this.groups) for (const box of group.boxes) box.checked = false;
      this.commit(true);
      this.input.focus();
    });
    this.more.addEventListener("click", () => this.showMore(true));
    window.addEventListener("popstate", () => {
      this.readUrl();
      this.search();
    });
  }

  // A new state from the visitor: record it in the URL, then search.
  commit(newEntry) {
    clearTimeout(this.timer);
    if (newEntry) this.typing = false;
    const query = this.urlQuery();
    if (query !== location.search) {
      const url = query || location.pathname;
      if (newEntry) history.pushState(null, "", url);
      else history.replaceState(null, "", url);
    }
    this.search();
  }

  readUrl() {
    const params = new URLSearchParams(location.search);
    this.input.value = params.get("q") || "";
    for (const group of this.groups) {
      const chosen = params.getAll(group.name);
      for (const box of group.boxes) box.checked = chosen.includes(box.value);
    }
    this.typing = false;
  }

  urlQuery() {
    const params = new URLSearchParams();
    const term = this.input.value.trim();
    if (term) params.append("q", term);
    for (const [name, values] of Object.entries(this.selected())) {
      for (const value of values) params.append(name, value);
    }
    const query = params.toString();
    return query ? `?${query}` : "";
  }

  selected() {
    const chosen = {};
    for (const group of this.groups) {
      const values = group.boxes.filter((box) => box.checked).map((box) => box.value);
      if (values.length) chosen[group.name] = values;
    }
    return chosen;
  }

  static filters(selected, skip) {
    const filters = {};
    for (const [name, values] of Object.entries(selected)) {
      if (name !== skip) filters[name] = { any: values };
    }
    return filters;
  }

  async search() {
    const run = ++this.run;
    const term = this.input.value.trim() || null;
    const selected = this.selected();
    const options = { filters: SearchPage.filters(selected) };
    if (!term) options.sort = { titel: "asc" };
    this.list.setAttribute("aria-busy", "true");
    const main = await this.pagefind.search(term, options);
    // A group's counts ignore its own choices (they add up, OR), but respect all others.
    const counts = await Promise.all(this.groups.map(async (group) => {
      if (!selected[group.name]) return main.filters[group.name] || {};
      const other = await this.pagefind.search(term, {
        filters: SearchPage.filters(selected, group.name),
      });
      return other.filters[group.name] || {};
    }));
    if (run !== this.run) return;
    this.groups.forEach((group, i) => this.showCounts(group, counts[i]));
    this.results = main.results;
    this.shown = 0;
    this.list.replaceChildren();
    await this.showMore(false);
    this.list.removeAttribute("aria-busy");
    this.announce(this.results.length);
  }

  // On a narrow screen, filter groups start folded (unless they hold a choice), so the
  // results are not pushed far down.
  foldFilters() {
    if (!window.matchMedia("(max-width: 60rem)").matches) return;
    for (const group of this.groups) {
      if (!group.boxes.some((box) => box.checked)) group.boxes[0].closest("details").open = false;
    }
  }

  showCounts(group, counts) {
    for (const box of group.boxes) {
      const count = box.labels[0].querySelector(".count");
      count.textContent = `(${counts[box.value] || 0})`;
    }
  }

  async showMore(moveFocus) {
    const run = this.run;
    const batch = this.results.slice(this.shown, this.shown + PAGE_SIZE);
    const found = await Promise.all(batch.map((result) => result.data()));
    if (run !== this.run) return;
    let first = null;
    for (const data of found) {
      const item = document.createElement("li");
      const card = document.createElement("template");
      card.innerHTML = data.meta.kaart;
      item.append(card.content);
      this.list.append(item);
      first = first || item;
    }
    this.shown += batch.length;
    this.more.hidden = this.shown >= this.results.length;
    if (moveFocus && first) first.querySelector("a").focus();
  }

  announce(count) {
    const data = this.form.dataset;
    const text = count === 0 ? data.msgNone : count === 1 ? data.msgCountOne : data.msgCount;
    this.status.textContent = text.replace("{count}", count.toLocaleString(document.documentElement.lang));
  }
}

async function start(form) {
  const message = document.getElementById("zoeken-melding");
  let pagefind;
  try {
    pagefind = await import(new URL(form.dataset.index, document.baseURI).href);
    await pagefind.init();
    await pagefind.filters(); // loads every filter, so every search counts them all
  } catch (error) {
    message.textContent = form.dataset.msgUnavailable;
    return;
  }
  document.getElementById("zoeken-uitleg").hidden = true;
  form.hidden = false;
  const page = new SearchPage(form, pagefind);
  page.listen();
  page.readUrl();
  page.foldFilters();
  await page.search();
}

const form = document.getElementById("zoeken");
if (form) start(form);
