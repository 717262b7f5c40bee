/** A tiny element builder: text goes in as text nodes (never HTML), so nothing a page titled can inject markup. */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** A command the user is told to run, with a Copy button. */
export function commandBlock(command: string): HTMLElement {
  const code = h('code', { class: 'command-text' }, command);
  const copy = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Copy: ${command}` }, 'Copy');
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(command).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = 'Select and copy'),
    );
  });
  return h('div', { class: 'command' }, code, copy);
}
