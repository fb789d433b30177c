// What every component may need, provided once by the App: the API clients, the words in the
// current language, and the way to report a failure.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from '../api';
import type { LanguagePref } from '../api/types';
import type { Lang, T } from '../i18n';
import type { ToastStore } from './toasts';

export interface Services {
  api: Api;
  t: T;
  lang: Lang;
  langPref: LanguagePref;
  setLangPref: (pref: LanguagePref) => void;
  toasts: ToastStore;
  /** Settings → Voice → "speak answers": each answer is read aloud when it finishes. */
  speakAnswers: boolean;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside <ServicesContext.Provider>');
  return s;
}
