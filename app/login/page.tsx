import { LoginForm } from '@/components/login-form';

export default function LoginPage() {
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-2xl bg-white p-8 shadow-sm ring-1 ring-slate-200">
        <h1 className="text-2xl font-semibold tracking-tight">
          <span className="text-indigo-600">Eddy</span> sign in
        </h1>
        <p className="mt-1 text-sm text-slate-500">Real-time, cookieless web analytics.</p>
        <LoginForm />
      </div>
    </main>
  );
}
