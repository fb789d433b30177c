// A component that re-renders only when its props change (shallowly). Preact's core has no `memo`
// (it lives in preact/compat); this is the few lines of it the long lists need, so that a parent's
// re-render does not re-render a thousand unchanged rows.

import { Component, h, type ComponentType, type FunctionComponent } from 'preact';

function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function memo<P extends object>(inner: FunctionComponent<P>): ComponentType<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      return !shallowEqual(this.props, next);
    }
    override render() {
      return h(inner, this.props);
    }
  }
  return Memo as unknown as ComponentType<P>;
}
