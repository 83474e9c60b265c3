// Chinese for the English that Streamlit's own frontend writes (it has no locale setting):
// tooltips, aria-labels and placeholders of its widgets and toolbars, and the few texts it
// puts into the page ("No results", "Select all", "Press Enter to submit form", …).
// Loaded once per browser tab by app.py (st.html, a same-origin script, allowed by the CSP's
// script-src 'self'); a MutationObserver translates what React renders later. Only exact
// strings and the patterns below are replaced, never user content; the material-icon
// ligatures (their text is an icon name) and code are left alone.
(function () {
  if (window.__mzChineseUi) return;
  window.__mzChineseUi = true;

  const EXACT = {
    "App pages": "页面导航",
    "Sidebar": "侧边栏",
    "Collapse sidebar": "收起侧边栏",
    "Expand sidebar": "展开侧边栏",
    "Skip to main content": "跳到正文",
    "Link to heading": "本节链接",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "Clear all": "全部清除",
    "Clear": "清除",
    "Open": "展开",
    "Close": "关闭",
    "close": "关闭",
    "No results": "没有匹配的选项",
    "Select all": "全选",
    "Dismiss": "关闭",
    "Fullscreen": "全屏",
    "Exit fullscreen": "退出全屏",
    "Close fullscreen": "退出全屏",
    "Copy to clipboard": "复制",
    "Copied": "已复制",
    "Download as CSV": "下载为 CSV",
    "Search": "搜索",
    "Show/hide columns": "显示/隐藏列",
    "Vega visualization": "迷你走势图",
    "Main menu": "主菜单",
    "Rerun": "重新运行",
    "Settings": "设置",
    "Print": "打印",
    "Stop": "停止",
    "Running...": "正在运行……",
    "Running": "正在运行",
    "Connecting": "正在连接",
    "Please wait...": "请稍候……",
    "Show password text": "显示密码",
    "Hide password text": "隐藏密码",
    "Browse files": "选择文件",
    "Upload": "上传",
    "Drag and drop files here": "将文件拖到这里",
    "Drag and drop file here": "将文件拖到这里",
    "Remove file": "移除文件",
    "Increment": "增加",
    "Decrement": "减少",
    "Sort ascending": "升序排列",
    "Sort descending": "降序排列",
    "Autosize": "自动列宽",
    "Pin column": "固定列",
    "Unpin column": "取消固定",
    "Hide column": "隐藏列",
    "Format": "格式",
    "Automatic": "自动",
    "Add row": "添加行",
    "Delete row": "删除行",
  };
  const PATTERNS = [
    [/^Help for (.+)$/, "$1的说明"],
    [/^Select (\d+) matches$/, "选择全部 $1 个匹配项"],
    [/^Press Enter to submit form$/, "按回车键提交"],
    [/^Press Enter to apply$/, "按回车键确认"],
    [/^Press (⌘|Ctrl)\+Enter to (submit form|apply)$/, "按 $1+回车键提交"],
    [/^Remove (.+)$/, "移除 $1"],
    [/^You can only select up to (\d+) options?\. Remove an option first\.$/, "最多只能选择 $1 项，请先移除一项。"],
    [/^Limit (.+) per file(.*)$/, "每个文件不超过 $1$2"],
    [/^Shortcut (.+)$/, "快捷键 $1"],
    [/^(.+) — start$/, "$1 — 起点"],
    [/^(.+) — end$/, "$1 — 终点"],
    [/^(\d+) options? available\.$/, "共 $1 个选项。"],
  ];
  const ATTRIBUTES = ["aria-label", "title", "placeholder", "data-title"];
  const SKIP = '[data-testid="stIconMaterial"], code, pre, .stCode, textarea, input, [contenteditable]';

  function chinese(text) {
    if (!text || !/[A-Za-z]{2}/.test(text)) return null;
    const trimmed = text.trim();
    if (Object.prototype.hasOwnProperty.call(EXACT, trimmed)) return text.replace(trimmed, EXACT[trimmed]);
    for (const [pattern, replacement] of PATTERNS) {
      if (pattern.test(trimmed)) return text.replace(trimmed, trimmed.replace(pattern, replacement));
    }
    return null;
  }

  function element(node) {
    for (const name of ATTRIBUTES) {
      const value = node.getAttribute(name);
      const done = value && chinese(value);
      if (done && done !== value) node.setAttribute(name, done);
    }
  }

  function textNode(node) {
    const parent = node.parentElement;
    if (!parent || parent.closest(SKIP)) return;
    const done = chinese(node.nodeValue);
    if (done && done !== node.nodeValue) node.nodeValue = done;
  }

  function walk(root) {
    if (root.nodeType === Node.TEXT_NODE) return textNode(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    element(root);
    for (const node of root.querySelectorAll("[aria-label], [title], [placeholder], [data-title]")) element(node);
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) textNode(node);
  }

  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") element(record.target);
      else if (record.type === "characterData") textNode(record.target);
      else for (const node of record.addedNodes) walk(node);
    }
  }).observe(document.documentElement, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ATTRIBUTES,
  });
  walk(document.body);
})();
