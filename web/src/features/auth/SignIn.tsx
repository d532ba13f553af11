import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError, errorMessage } from '../../api/client';
import { useMe, useSignIn } from '../../api/session';

export function SignIn() {
  const me = useMe();
  const signIn = useSignIn();
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? '/';

  if (me.data) return <Navigate to={from} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate(
      { email, password, totp_code: needsCode ? code : undefined },
      {
        onSuccess: () => navigate(from, { replace: true }),
        onError: (err) => {
          if (err instanceof ApiError && err.code === 'two_factor_required') setNeedsCode(true);
        },
      },
    );
  };
  const error = signIn.error;
  const showError = error && !(error instanceof ApiError && error.code === 'two_factor_required' && !code);

  return (
    <div className="signin-page">
      <form className="signin-card" onSubmit={submit} noValidate>
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width={32} height={32} /> Keel
        </div>
        <h1>Sign in</h1>
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {needsCode && (
          <label className="field">
            <span>Authentication code</span>
            <input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          </label>
        )}
        {showError && (
          <p className="form-error" role="alert">
            {errorMessage(error)}
          </p>
        )}
        <button className="btn btn-primary btn-block" type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
