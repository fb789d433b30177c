import { describe, expect, it } from 'vitest';
import { detectLang, en, loadLangPref, resolveLang, saveLangPref, translate, zh } from '../src/i18n';

describe('i18n', () => {
  it('has the same keys in both dictionaries, none empty', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, value] of [...Object.entries(en), ...Object.entries(zh)]) {
      expect(value.trim(), key).not.toBe('');
    }
  });

  it('uses the same placeholders in both languages', () => {
    const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(names(zh[key]), key).toEqual(names(en[key]));
    }
  });

  it('detects Chinese from any zh locale, English otherwise', () => {
    expect(detectLang('zh-CN')).toBe('zh');
    expect(detectLang('zh-Hant-TW')).toBe('zh');
    expect(detectLang('zh')).toBe('zh');
    expect(detectLang('en-US')).toBe('en');
    expect(detectLang('fr')).toBe('en');
    expect(detectLang('zu')).toBe('en');
    expect(detectLang(undefined)).toBe('en');
  });

  it('follows the browser only when the preference is auto', () => {
    expect(resolveLang('auto', 'zh-CN')).toBe('zh');
    expect(resolveLang('en', 'zh-CN')).toBe('en');
    expect(resolveLang('zh', 'en-GB')).toBe('zh');
  });

  it('persists the preference and ignores junk', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadLangPref(storage)).toBe('auto');
    saveLangPref(storage, 'zh');
    expect(loadLangPref(storage)).toBe('zh');
    store.set('doctalk.lang', 'klingon');
    expect(loadLangPref(storage)).toBe('auto');
  });

  it('fills placeholders', () => {
    expect(translate('en', 'searchedFor', { query: 'VPN' })).toBe('Searched for: VPN');
    expect(translate('zh', 'searchedFor', { query: '出差' })).toBe('检索：出差');
    expect(translate('zh', 'faqRow', { n: 12 })).toBe('FAQ 第 12 行');
  });
});
