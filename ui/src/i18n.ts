// The UI's words in English and Chinese. `zh` is typed as `Record<Key, string>`, so a key missing
// from either dictionary is a compile error, not a blank label at run time. Placeholders are
// written `{name}` and filled by `translate`.

import type { LanguagePref } from './api/types';

export type Lang = 'zh' | 'en';

export const en = {
  appName: 'DocTalk',
  tagline: 'Answers from your own documents',
  // header
  kbLabel: 'Knowledge base',
  kbNew: 'New knowledge base…',
  kbNamePlaceholder: 'name (letters, digits, - and _)',
  kbNameInvalid: 'Use 1–64 letters, digits, - or _.',
  kbCreate: 'Create',
  cancel: 'Cancel',
  close: 'Close',
  settings: 'Settings',
  langToggle: '中文',
  langToggleTitle: 'Switch the interface to Chinese',
  modelStatus: 'Model: {model}',
  noModel: 'No language model (extractive answers)',
  // library
  library: 'Library',
  addFiles: 'Add files',
  addFolder: 'Add folder',
  dropHere: 'Drop documents here',
  dropHint: 'PDF, Word, Markdown, text, HTML, or FAQ exports (CSV, Excel, JSON). Folders too.',
  dropRelease: 'Release to add these documents',
  trySample: 'Try the sample knowledge base',
  sampleHint: 'An employee handbook, an IT security policy and a helpdesk FAQ, in Chinese.',
  documents: 'Documents',
  docCount: '{n} documents',
  pagesN: '{n} pages',
  chunksN: '{n} chunks',
  reindex: 'Re-index',
  remove: 'Delete',
  confirmRemove: 'Delete “{title}” from the index?',
  confirmYes: 'Delete',
  removed: 'Deleted “{title}”.',
  findDocs: 'Find documents (Ctrl+K)',
  findPlaceholder: 'Filter by title, or search passages…',
  noMatches: 'No documents match.',
  passages: 'Passages',
  searching: 'Searching…',
  // uploads
  uploads: 'Adding documents',
  uploadSummary: '{done} of {total} done',
  uploadFailedN: '{n} failed',
  skippedN: '{n} files skipped (hidden or not a document type)',
  clearFinished: 'Clear finished',
  stopUploads: 'Stop',
  showList: 'Show files',
  hideList: 'Hide files',
  status_queued: 'Waiting',
  status_parse: 'Reading',
  status_embed: 'Embedding {done}/{total}',
  status_commit: 'Saving',
  status_indexed: 'Indexed',
  status_unchanged: 'Unchanged',
  status_failed: 'Failed',
  tooLarge: 'Too large: the file is over the server’s upload limit.',
  emptyFile: 'The file is empty (0 bytes).',
  cancelled: 'Cancelled.',
  page: 'page {n}',
  // chat
  chat: 'Chat',
  newChat: 'New conversation',
  conversations: 'Conversations',
  noConversations: 'No conversations yet.',
  deleteConversation: 'Delete conversation',
  composerPlaceholder: 'Ask a question about your documents…',
  composerHint: 'Enter to send · Shift+Enter for a new line · Esc to stop',
  send: 'Send',
  stop: 'Stop',
  you: 'You',
  assistant: 'DocTalk',
  searchedFor: 'Searched for: {query}',
  copyAnswer: 'Copy answer',
  copied: 'Copied',
  copyFailed: 'Could not copy to the clipboard.',
  modeLlm: 'LLM',
  modeExtractive: 'Extractive',
  modeLlmTitle: 'Written by {model} from the sources',
  modeExtractiveTitle: 'Quoted from the sources, without a language model',
  fallback: 'No language model used: {reason}',
  stopped: 'Stopped.',
  answerFailed: 'The answer failed.',
  sources: 'Sources',
  faqRow: 'FAQ row {n}',
  citeTitle: 'Source {n}: {title}',
  emptyChat: 'Ask anything about the documents in this knowledge base. Answers cite their sources.',
  notGrounded: 'Not found in your documents.',
  // viewer
  viewer: 'Source',
  prevPage: 'Previous page',
  nextPage: 'Next page',
  pageOf: 'Page {n} of {total}',
  loadingPdf: 'Opening the PDF…',
  pdfFailed: 'Could not show this PDF: {message}',
  question: 'Question',
  answer: 'Answer',
  noHighlight: 'The exact passage was not found on this page; it is shown below.',
  // settings
  settingsTitle: 'Settings',
  model: 'Language model',
  modelLocal: 'Local model',
  modelRemote: 'Remote endpoint',
  modelNone: 'None (extractive answers only)',
  modelUrl: 'Endpoint URL',
  modelChoose: 'Model',
  device: 'Device',
  catalogue: 'Model catalogue',
  installed: 'Installed',
  notInstalled: 'Not installed',
  download: 'Download',
  downloading: 'Downloading… {percent}',
  downloaded: 'Downloaded {id}.',
  confirmDownloadTitle: 'Download {id}?',
  confirmDownloadBody: 'Size: {size}. Licence: {license}. Downloading means you accept this licence.',
  licence: 'Licence',
  size: 'Size',
  voice: 'Voice',
  voiceEnabled: 'Read answers aloud',
  voiceChoose: 'Voice',
  voiceUnavailable: '(not installed)',
  dataDir: 'Data directory',
  language: 'Language',
  langAuto: 'Automatic (follow the system)',
  langZh: '中文',
  langEn: 'English',
  save: 'Save',
  saved: 'Settings saved.',
  restartRequired: 'Restart DocTalk for these changes to take effect.',
  loading: 'Loading…',
  // errors
  errorPrefix: 'Error',
  dismiss: 'Dismiss',
  unknownError: 'Something went wrong.',
} as const;

export type Key = keyof typeof en;

export const zh: Record<Key, string> = {
  appName: 'DocTalk',
  tagline: '用您自己的文档回答问题',
  kbLabel: '知识库',
  kbNew: '新建知识库…',
  kbNamePlaceholder: '名称（字母、数字、- 和 _）',
  kbNameInvalid: '请使用 1–64 个字母、数字、- 或 _。',
  kbCreate: '创建',
  cancel: '取消',
  close: '关闭',
  settings: '设置',
  langToggle: 'EN',
  langToggleTitle: 'Switch the interface to English',
  modelStatus: '模型：{model}',
  noModel: '没有语言模型（摘录式回答）',
  library: '文档库',
  addFiles: '添加文件',
  addFolder: '添加文件夹',
  dropHere: '把文档拖到这里',
  dropHint: '支持 PDF、Word、Markdown、文本、HTML 以及 FAQ 导出文件（CSV、Excel、JSON），也可以拖入文件夹。',
  dropRelease: '松开即可添加这些文档',
  trySample: '试用示例知识库',
  sampleHint: '员工手册、IT 安全制度和服务台 FAQ（中文）。',
  documents: '文档',
  docCount: '{n} 个文档',
  pagesN: '{n} 页',
  chunksN: '{n} 个片段',
  reindex: '重新索引',
  remove: '删除',
  confirmRemove: '从索引中删除“{title}”？',
  confirmYes: '删除',
  removed: '已删除“{title}”。',
  findDocs: '查找文档（Ctrl+K）',
  findPlaceholder: '按标题筛选，或搜索段落…',
  noMatches: '没有匹配的文档。',
  passages: '段落',
  searching: '正在搜索…',
  uploads: '正在添加文档',
  uploadSummary: '已完成 {done} / {total}',
  uploadFailedN: '{n} 个失败',
  skippedN: '已跳过 {n} 个文件（隐藏文件或不支持的类型）',
  clearFinished: '清除已完成',
  stopUploads: '停止',
  showList: '显示文件',
  hideList: '隐藏文件',
  status_queued: '等待中',
  status_parse: '读取中',
  status_embed: '向量化 {done}/{total}',
  status_commit: '保存中',
  status_indexed: '已索引',
  status_unchanged: '未变化',
  status_failed: '失败',
  tooLarge: '文件过大：超过了服务器的上传上限。',
  emptyFile: '文件为空（0 字节）。',
  cancelled: '已取消。',
  page: '第 {n} 页',
  chat: '对话',
  newChat: '新对话',
  conversations: '对话记录',
  noConversations: '还没有对话。',
  deleteConversation: '删除对话',
  composerPlaceholder: '就您的文档提问…',
  composerHint: 'Enter 发送 · Shift+Enter 换行 · Esc 停止',
  send: '发送',
  stop: '停止',
  you: '您',
  assistant: 'DocTalk',
  searchedFor: '检索：{query}',
  copyAnswer: '复制回答',
  copied: '已复制',
  copyFailed: '无法复制到剪贴板。',
  modeLlm: 'LLM',
  modeExtractive: '摘录',
  modeLlmTitle: '由 {model} 根据来源撰写',
  modeExtractiveTitle: '直接摘录自来源，未使用语言模型',
  fallback: '未使用语言模型：{reason}',
  stopped: '已停止。',
  answerFailed: '回答失败。',
  sources: '来源',
  faqRow: 'FAQ 第 {n} 行',
  citeTitle: '来源 {n}：{title}',
  emptyChat: '就本知识库中的文档随便提问，回答会注明出处。',
  notGrounded: '您的文档中没有找到相关内容。',
  viewer: '来源',
  prevPage: '上一页',
  nextPage: '下一页',
  pageOf: '第 {n} 页，共 {total} 页',
  loadingPdf: '正在打开 PDF…',
  pdfFailed: '无法显示此 PDF：{message}',
  question: '问题',
  answer: '答案',
  noHighlight: '本页未找到完全一致的段落，原文见下方。',
  settingsTitle: '设置',
  model: '语言模型',
  modelLocal: '本地模型',
  modelRemote: '远程接口',
  modelNone: '不使用（仅摘录式回答）',
  modelUrl: '接口地址',
  modelChoose: '模型',
  device: '设备',
  catalogue: '模型目录',
  installed: '已安装',
  notInstalled: '未安装',
  download: '下载',
  downloading: '正在下载… {percent}',
  downloaded: '已下载 {id}。',
  confirmDownloadTitle: '下载 {id}？',
  confirmDownloadBody: '大小：{size}。许可证：{license}。下载即表示您接受该许可证。',
  licence: '许可证',
  size: '大小',
  voice: '语音',
  voiceEnabled: '朗读回答',
  voiceChoose: '声音',
  voiceUnavailable: '（未安装）',
  dataDir: '数据目录',
  language: '界面语言',
  langAuto: '自动（跟随系统）',
  langZh: '中文',
  langEn: 'English',
  save: '保存',
  saved: '设置已保存。',
  restartRequired: '需要重新启动 DocTalk 才能生效。',
  loading: '加载中…',
  errorPrefix: '错误',
  dismiss: '关闭',
  unknownError: '出错了。',
};

const dictionaries: Record<Lang, Record<Key, string>> = { en, zh };

/** zh, zh-CN, zh-Hant… → Chinese; everything else (or nothing) → English. */
export function detectLang(navigatorLanguage: string | undefined | null): Lang {
  return navigatorLanguage && /^zh\b/i.test(navigatorLanguage) ? 'zh' : 'en';
}

export function resolveLang(pref: LanguagePref, navigatorLanguage: string | undefined | null): Lang {
  return pref === 'auto' ? detectLang(navigatorLanguage) : pref;
}

const PREF_KEY = 'doctalk.lang';

export function loadLangPref(storage: Pick<Storage, 'getItem'> | undefined): LanguagePref {
  try {
    const v = storage?.getItem(PREF_KEY);
    return v === 'zh' || v === 'en' || v === 'auto' ? v : 'auto';
  } catch {
    return 'auto';
  }
}

export function saveLangPref(storage: Pick<Storage, 'setItem'> | undefined, pref: LanguagePref): void {
  try {
    storage?.setItem(PREF_KEY, pref);
  } catch {
    // Storage disabled (private mode): the choice lasts for this page only.
  }
}

export type Vars = Record<string, string | number>;

export function translate(lang: Lang, key: Key, vars?: Vars): string {
  const template = dictionaries[lang][key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export type T = (key: Key, vars?: Vars) => string;
