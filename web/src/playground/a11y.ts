// Accessibility repairs of GraphiQL 3's markup, applied as it renders (tabs, panes, docs):
// - its editors are CodeMirror 5 instances whose input is a hidden <textarea> without a
//   label (axe: "Form elements must have labels", critical): each gets the name of its editor;
// - their scrolling areas are out of the tab order (axe: "Scrollable region must have
//   keyboard access", serious): each goes in (arrow keys then scroll it);
// - its operation tabs are `role="tab"` items holding two buttons (select, close), which
//   ARIA forbids (axe: nested-interactive, aria-required-children): they become a group of
//   buttons, the active one marked `aria-current`.

/** The accessible name of the editor that `textarea` types into, if it is one of GraphiQL's. */
export function editorName(textarea: Element): string | null {
  if (textarea.closest('.graphiql-query-editor')) return 'Operation editor';
  if (textarea.closest('.graphiql-response')) return 'Response (read only)';
  const tool = textarea.closest('.graphiql-editor-tool');
  if (tool) {
    // GraphiQL renders the variables editor first, then the headers editor.
    const editors = Array.from(tool.querySelectorAll(':scope > .graphiql-editor'));
    const own = textarea.closest('.graphiql-editor');
    const index = own ? editors.indexOf(own) : -1;
    if (index === 0) return 'Variables (JSON)';
    if (index === 1) return 'Headers (JSON)';
    return 'Variables or headers (JSON)';
  }
  if (textarea.closest('.CodeMirror')) return 'Editor';
  return null;
}

function repairTabs(root: ParentNode): void {
  // A group of buttons (the list also holds the "Add tab" button, so it cannot be a list).
  for (const list of Array.from(root.querySelectorAll('.graphiql-tabs:not([role="group"])'))) {
    list.setAttribute('role', 'group');
  }
  for (const item of Array.from(root.querySelectorAll('.graphiql-tab:not([role="none"])'))) {
    item.setAttribute('role', 'none');
  }
  for (const item of Array.from(root.querySelectorAll('.graphiql-tab'))) {
    if (item.hasAttribute('aria-selected')) item.removeAttribute('aria-selected');
    const button = item.querySelector(':scope > .graphiql-tab-button');
    if (!button) continue;
    const active = item.classList.contains('graphiql-tab-active');
    if (active && button.getAttribute('aria-current') !== 'true') button.setAttribute('aria-current', 'true');
    if (!active && button.hasAttribute('aria-current')) button.removeAttribute('aria-current');
  }
}

function repair(root: ParentNode): void {
  for (const textarea of Array.from(root.querySelectorAll('textarea:not([aria-label])'))) {
    const name = editorName(textarea);
    if (name) textarea.setAttribute('aria-label', name);
  }
  for (const scroller of Array.from(root.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])'))) {
    scroller.setAttribute('tabindex', '0');
  }
  repairTabs(root);
}

/** Repairs what is under `root` now and whenever GraphiQL renders again. */
export function repairAccessibility(root: HTMLElement): MutationObserver {
  repair(root);
  const observer = new MutationObserver(() => repair(root));
  observer.observe(root, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['role', 'aria-selected', 'class'],
  });
  return observer;
}
