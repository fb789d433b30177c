// Entry point: choose the transport for where the page runs and render the app.

import { render } from 'preact';
import { pickTransport } from './api/pick';
import { App } from './components/App';
import { ToastStore } from './state/toasts';
import './styles.css';

const toasts = new ToastStore();

// Last line of defence: a rejection nothing handled still reaches the user as a toast instead of
// vanishing into the console.
window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  toasts.error(e.reason);
});

const root = document.getElementById('app');
if (root) render(<App transport={pickTransport()} toasts={toasts} />, root);
