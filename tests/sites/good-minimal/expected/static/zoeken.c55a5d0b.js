// Faceted search for the search page (zoeken/), on Pagefind's JavaScript API.
//
// The page works without this script: it then says that search needs JavaScript and links
// to the browse pages. Query and filters live in the URL (?q=…&thema=…), so a search can be
// shared and the back button works. Within one filter group terms combine with OR, across
// groups with AND. Result cards are the list pages' cards, rendered at build time; for a
// query, each gets an excerpt with the words that matched.
//
// On term pages the script only turns the sidebar's counts into links to their selection.

const PAGE_SIZE = 20;
const TYPING_DELAY = 300;
const EXCERPT_WORDS = 30;
const NARROW = "(max-width: 60rem)";
const BY_TITLE = { title: "asc" };
// Pagefind's filter that tells the parts of the index apart (no facet can be named so), and
// the hidden filter that gives each entry's position in its part.
const PART = "dossier:deel";
const NUMBER = "dossier:nr";

// The index comes in parts (pagefind/parts.json lists all but the first), each a Pagefind
// bundle of a range of the records in title order. Pagefind merges them (mergeIndex):
// results by score, filter counts added up. Sorted by title, the results are the parts'
// results one part after another; each part's come from a search within that part, made
// when they are about to be shown. Pagefind looks each word up in each part on its own,
// and a part in which a word of several matches nothing answers as if that word had not
// been asked; one index does so only when no record has the word, so for such a query
// the parts that lack a word another part has are left out.
//
// After a small change the parts are kept as they were and a delta part, listed last,
// holds the records edited or added since (parts.json's `delta`): the entries of the other
// parts that are no longer right (`stale`: per part, their positions) are left out of every
// search, so results and counts are those of the records as they are; sorted by title, each
// of the delta's results goes before the position in its part that `places` gives it.
class Index {
  static async open(url) {
    const pagefind = await import(url);
    const listed = await fetch(new URL("parts.json", url), { cache: "no-cache" });
    if (!listed.ok) throw new Error(`parts.json: ${listed.status}`);
    const { parts, delta } = await listed.json();
    if (parts.length || delta) await pagefind.options({ mergeFilter: { [PART]: "0" } });
    await pagefind.init();
    await Promise.all(parts.map((folder, i) => pagefind.mergeIndex(new URL(folder, url).href, {
      mergeFilter: { [PART]: String(i + 1) },
    })));
    await pagefind.filters(); // loads every filter, so every search counts them all
    return new Index(pagefind, parts.length + 1, delta || null);
  }

  constructor(pagefind, parts, delta) {
    this.pagefind = pagefind;
    this.parts = parts;
    this.having = new Map();
    // The delta part's number (the last part), where each of its records falls, and the
    // filter that leaves the stale entries out.
    this.places = delta ? delta.places : [];
    this.delta = this.places.length ? String(parts - 1) : null;
    this.balanced = this.delta ? parts - 1 : parts;
    const stale = delta ? delta.stale.filter(([, positions]) => positions.length) : [];
    this.stale = stale.length ? stale.map(([part, positions]) => ({
      [PART]: String(part), [NUMBER]: { any: positions.map(String) },
    })) : null;
  }

  // A search's filters with the stale entries left out.
  current(filters) {
    return this.stale ? { ...filters, none: this.stale } : filters;
  }

  // Results (sorted by title when there is no term) and the filter counts among them.
  async search(term, filters) {
    const having = await this.partsHaving(term);
    if (having && !having.length) return { results: [], filters: {} };
    if (having) filters = { ...filters, [PART]: { any: having } };
    filters = this.current(filters);
    const sorted = !term;
    if (!sorted || this.parts === 1) {
      const options = sorted ? { filters, sort: BY_TITLE } : { filters };
      const found = await this.pagefind.search(term, options);
      return { results: found.results, filters: found.filters };
    }
    const [found, delta] = await Promise.all([
      this.pagefind.search(null, { filters }), this.deltaByTitle(filters)]);
    return { results: new ByTitle(this, filters, found, delta), filters: found.filters };
  }

  // The delta's results for these filters, sorted by title, each with its place.
  async deltaByTitle(filters) {
    if (!this.delta) return [];
    const found = await this.pagefind.search(null, {
      filters: { ...filters, [PART]: { any: [this.delta] } }, sort: BY_TITLE,
    });
    const numbers = positions(found.filters);
    return found.results.map((result, i) => {
      const [part, before] = this.places[numbers[i]];
      return { result, part, before };
    });
  }

  // The parts that have every word of a query of several words (null: all parts count).
  partsHaving(term) {
    const words = (term || "").split(/\s+/).filter(Boolean);
    if (this.parts === 1 || words.length < 2) return Promise.resolve(null);
    if (!this.having.has(term)) {
      const all = [...Array(this.parts).keys()].map(String);
      const filters = this.current({});
      this.having.set(term, Promise.all(words.map((word) => this.pagefind.search(word, { filters })))
        .then((found) => found.filter((one) => one.results.length).reduce((having, one) => {
          const counts = one.filters[PART] || {};
          return having.filter((part) => counts[part] > 0);
        }, all)));
    }
    return this.having.get(term);
  }
}

// The positions in its part of each result of a search within one part, in their order
// (the order of the part, which is title order).
function positions(filters) {
  return Object.entries(filters[NUMBER] || {}).filter(([, count]) => count > 0)
    .map(([position]) => Number(position)).sort((a, b) => a - b);
}

// Results sorted by title over all parts; `slice` gives a page of them, like an array's.
class ByTitle {
  constructor(index, filters, found, delta) {
    this.index = index;
    this.filters = filters;
    this.length = found.results.length;
    this.counts = found.filters[PART] || {};
    this.delta = new Map(); // per part: the delta's results that fall in it
    for (const one of delta) {
      if (!this.delta.has(one.part)) this.delta.set(one.part, []);
      this.delta.get(one.part).push(one);
    }
    this.found = new Map();
  }

  async slice(from, to) {
    const taken = [];
    let start = 0;
    for (let part = 0; part < this.index.balanced && start < to; part++) {
      const end = start + (this.counts[String(part)] || 0) + (this.delta.get(part) || []).length;
      if (end > from && end > start) {
        const results = await this.part(part);
        taken.push(...results.slice(Math.max(from - start, 0), to - start));
      }
      start = end;
    }
    return taken;
  }

  part(n) {
    if (!this.found.has(n)) {
      const filters = { ...this.filters, [PART]: { any: [String(n)] } };
      this.found.set(n, this.index.pagefind.search(null, { filters, sort: BY_TITLE })
        .then((found) => this.withDelta(n, found)));
    }
    return this.found.get(n);
  }

  // A part's results with the delta's that fall in it, each before its position.
  withDelta(n, found) {
    const delta = this.delta.get(n) || [];
    if (!delta.length) return found.results;
    const numbers = positions(found.filters);
    const merged = [];
    let next = 0;
    found.results.forEach((result, i) => {
      while (next < delta.length && delta[next].before <= numbers[i]) merged.push(delta[next++].result);
      merged.push(result);
    });
    while (next < delta.length) merged.push(delta[next++].result);
    return merged;
  }
}

class SearchPage {
  constructor(form, index) {
    this.form = form;
    this.index = index;
    this.input = form.querySelector("input[name=q]");
    this.status = form.querySelector("#zoekstatus");
    this.list = form.querySelector("#zoekresultaten");
    this.more = form.querySelector("#meer-resultaten");
    this.panel = form.querySelector("#filterpaneel");
    this.active = form.querySelector("#filters-actief");
    this.groups = [...form.querySelectorAll("fieldset[data-filter]")].map((fieldset) => ({
      name: fieldset.dataset.filter,
      boxes: [...fieldset.querySelectorAll("input[type=checkbox]")],
    }));
    this.results = [];
    this.term = null;
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
    this.list.setAttribute("aria-busy", "true");
    const main = await this.index.search(term, SearchPage.filters(selected));
    // A group's counts ignore its own choices (they add up, OR), but respect all others.
    const counts = await Promise.all(this.groups.map(async (group) => {
      if (!selected[group.name]) return main.filters[group.name] || {};
      const other = await this.index.search(term, SearchPage.filters(selected, group.name));
      return other.filters[group.name] || {};
    }));
    if (run !== this.run) return;
    this.groups.forEach((group, i) => this.showCounts(group, counts[i]));
    this.showActive();
    this.results = main.results;
    this.term = term;
    this.shown = 0;
    this.list.replaceChildren();
    await this.showMore(false);
    this.list.removeAttribute("aria-busy");
    this.announce(this.results.length);
  }

  // On a narrow screen the filters start folded behind one control, which says how many
  // are chosen, so the results come right after it; opened, the groups without a choice
  // are folded too.
  foldFilters() {
    if (!window.matchMedia(NARROW).matches) return;
    this.panel.open = false;
    for (const group of this.groups) {
      if (!group.boxes.some((box) => box.checked)) group.boxes[0].closest("details").open = false;
    }
  }

  // The filter control says how many filters are chosen (it may be folded over them).
  showActive() {
    const chosen = this.groups.flatMap((group) => group.boxes).filter((box) => box.checked);
    const text = this.form.dataset.msgActive.replace("{count}", chosen.length);
    this.active.textContent = chosen.length ? `(${text})` : "";
  }

  showCounts(group, counts) {
    for (const box of group.boxes) {
      const count = box.labels[0].querySelector(".count");
      count.textContent = `(${counts[box.value] || 0})`;
    }
  }

  async showMore(moveFocus) {
    const run = this.run;
    const batch = await this.results.slice(this.shown, this.shown + PAGE_SIZE);
    const found = await Promise.all(batch.map((result) => result.data()));
    if (run !== this.run) return;
    let first = null;
    for (const data of found) {
      const item = document.createElement("li");
      const card = document.createElement("template");
      card.innerHTML = data.meta.kaart; // rendered and escaped at build time
      if (this.term) {
        const article = card.content.querySelector("article");
        article?.insertBefore(excerpt(data, this.form.dataset.msgExcerpt),
          article.querySelector(".card-facts"));
      }
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

// The stretch of a result's indexed text where the matched words lie closest together,
// with those words marked. It is made of text nodes and <mark> elements from the text and
// the word positions Pagefind returns, never parsed as HTML: Pagefind's own excerpt is HTML
// made from the records' text with only < and > escaped.
function excerpt(data, label) {
  const words = data.content.split(/[\r\n\s]+/);
  const matched = new Set(data.locations);
  const positions = [...matched].sort((a, b) => a - b);
  // The indexed text starts with the title and summary, which the card shows already:
  // a match after them says more about why the record was found.
  const shown = [data.meta.title, data.meta.summary]
    .reduce((n, text) => n + (text ? text.split(/[\r\n\s]+/).length : 0), 0);
  const further = positions.filter((p) => p >= shown);
  const start = excerptStart(further.length ? further : positions, words.length);
  const end = Math.min(words.length, start + EXCERPT_WORDS);
  const paragraph = document.createElement("p");
  paragraph.className = "card-excerpt";
  const hint = document.createElement("span");
  hint.className = "visually-hidden";
  hint.textContent = `${label} `;
  paragraph.append(hint, start > 0 ? "… " : "");
  for (let i = start; i < end; i++) {
    if (i > start) paragraph.append(" ");
    paragraph.append(...(matched.has(i) ? markedWord(words[i]) : [words[i]]));
  }
  if (end < words.length) paragraph.append(" …");
  return paragraph;
}

// Where an excerpt starts: around the window of EXCERPT_WORDS words holding most matches.
function excerptStart(positions, total) {
  let best = 0;
  let first = positions[0] || 0;
  let last = first;
  for (let i = 0, j = 0; i < positions.length; i++) {
    while (positions[i] - positions[j] >= EXCERPT_WORDS) j++;
    if (i - j + 1 > best) [best, first, last] = [i - j + 1, positions[j], positions[i]];
  }
  const start = first - Math.floor((EXCERPT_WORDS - (last - first + 1)) / 2);
  return Math.max(0, Math.min(start, total - EXCERPT_WORDS));
}

// A matched word in a <mark>, the punctuation around it outside.
function markedWord(word) {
  const [, before, core, after] = word.match(/^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u);
  const mark = document.createElement("mark");
  mark.textContent = core || word;
  return core ? [before, mark, after] : [mark];
}

// On a term page: a count within the selection leads to exactly that selection in the
// search (the sidebar's data-search), so the results are as many as the count said.
function linkSelections() {
  for (const link of document.querySelectorAll("a[data-search]")) {
    link.href = link.dataset.search;
    link.setAttribute("aria-describedby", "sidebar-search");
  }
}

async function start(form) {
  const message = document.getElementById("zoeken-melding");
  let index;
  try {
    index = await Index.open(new URL(form.dataset.index, document.baseURI).href);
  } catch (error) {
    message.textContent = form.dataset.msgUnavailable;
    return;
  }
  document.getElementById("zoeken-uitleg").hidden = true;
  form.hidden = false;
  const page = new SearchPage(form, index);
  page.listen();
  page.readUrl();
  page.foldFilters();
  await page.search();
}

const form = document.getElementById("zoeken");
if (form) start(form);
linkSelections();
