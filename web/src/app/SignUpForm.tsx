import { useId, useState, type FormEvent } from 'react';
import { api } from './api';
import { ErrorNotice } from './ErrorNotice';
import { SIGN_UP, type SignUpInput, type SignUpResult } from '../graphql/operations';

export function SignUpForm({ onSignedUp }: { onSignedUp: (result: SignUpResult['signUp']) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenantName, setTenantName] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ids = { email: useId(), password: useId(), tenantName: useId(), passwordHint: useId(), title: useId() };

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    setSubmitting(true);
    setError(null);
    try {
      const input: SignUpInput = { email: email.trim(), password, tenantName: tenantName.trim() };
      const data = await api.request<SignUpResult>(SIGN_UP, { input }, { operationName: 'SignUp' });
      onSignedUp(data.signUp);
    } catch (e) {
      setError(e);
      setSubmitting(false);
    }
  }

  return (
    <section className="card" aria-labelledby={ids.title}>
      <h1 id={ids.title} className="card__title">Create your workspace</h1>
      <p className="card__lead">Start with a workspace for your team. You will be its owner.</p>
      <form className="form" onSubmit={submit} aria-busy={submitting} noValidate={false}>
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          <input
            id={ids.email}
            name="email"
            type="email"
            autoComplete="email"
            inputMode="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            placeholder="you@company.com"
          />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={ids.passwordHint}
          />
          <p id={ids.passwordHint} className="field__hint">
            A long passphrase is best. Weak or common passwords are refused.
          </p>
        </div>
        <div className="field">
          <label htmlFor={ids.tenantName}>Workspace name</label>
          <input
            id={ids.tenantName}
            name="tenantName"
            type="text"
            autoComplete="organization"
            required
            value={tenantName}
            onChange={(e) => setTenantName(e.target.value)}
            placeholder="Acme Inc."
          />
        </div>
        {error != null && <ErrorNotice error={error} />}
        <button className="button button--primary" type="submit" disabled={submitting}>
          {submitting ? 'Creating workspace…' : 'Create workspace'}
        </button>
      </form>
    </section>
  );
}
