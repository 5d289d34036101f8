/**
 * "Settings": watched ports, poll interval, notifications, start at login, history retention,
 * and the allowlist. Edits stay in a draft until saved; the main process validates again.
 */
import { useEffect, useId, useState } from 'react';
import type { ReactNode } from 'react';
import type { Result } from '#common/ipc-contract.ts';
import type { AllowlistEntry, Settings, SettingsPatch } from '#common/settings.ts';
import { describeAllowed, describeEntry } from '#common/allowlist.ts';
import { escapeUnsafe } from '#common/display-text.ts';
import type { DraftField, SettingsDraft } from '../state/settings-draft.ts';
import { draftFromSettings, parseDraft, SETTINGS_LIMITS } from '../state/settings-draft.ts';
import { SafeText } from './safe-text.tsx';
import { Icon } from './icons.tsx';

/** Props of `SettingsView`. */
export interface SettingsViewProps {
  readonly settings: Settings;
  readonly notificationsSupported: boolean;
  readonly platform: string;
  readonly saving: boolean;
  readonly onSave: (patch: SettingsPatch) => Promise<Result<Settings>>;
  readonly onRemoveAllowed: (entry: AllowlistEntry) => void;
}

/** The settings view. */
export function SettingsView({ settings, notificationsSupported, platform, saving, onSave, onRemoveAllowed }: SettingsViewProps) {
  const id = useId();
  const [draft, setDraft] = useState<SettingsDraft>(() => draftFromSettings(settings));
  const [errors, setErrors] = useState<Partial<Record<DraftField, string>>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  // Settings changed elsewhere (tray, another save) replace an untouched draft.
  useEffect(() => {
    if (!dirty) setDraft(draftFromSettings(settings));
  }, [settings, dirty]);

  const edit = <K extends DraftField>(field: K, value: SettingsDraft[K]): void => {
    setDraft((d) => ({ ...d, [field]: value }));
    setDirty(true);
    setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const save = async (): Promise<void> => {
    setServerError(null);
    const parsed = parseDraft(draft, settings);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    if (Object.keys(parsed.patch).length === 0) {
      setDirty(false);
      return;
    }
    const result = await onSave(parsed.patch);
    if (result.ok) {
      setDirty(false);
      setDraft(draftFromSettings(result.value));
    } else {
      setServerError(result.error.message);
    }
  };

  const revert = (): void => {
    setDraft(draftFromSettings(settings));
    setErrors({});
    setServerError(null);
    setDirty(false);
  };

  return (
    <form
      className="settings-view"
      aria-label="Settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <Group title="Monitoring">
        <TextField id={`${id}-ports`} label="Watched ports" hint="Port numbers separated by commas. Each is watched on TCP and UDP, IPv4 and IPv6." error={errors.ports}>
          <input
            id={`${id}-ports`}
            inputMode="numeric"
            value={draft.ports}
            onChange={(e) => edit('ports', e.currentTarget.value)}
            aria-invalid={errors.ports ? true : undefined}
            aria-describedby={`${id}-ports-hint`}
          />
        </TextField>
        <TextField
          id={`${id}-interval`}
          label="Check every (seconds)"
          hint={`From ${SETTINGS_LIMITS.minIntervalSeconds} to ${SETTINGS_LIMITS.maxIntervalSeconds}. Shorter catches brief connections; each check is cheap.`}
          error={errors.intervalSeconds}
        >
          <input
            id={`${id}-interval`}
            inputMode="decimal"
            value={draft.intervalSeconds}
            onChange={(e) => edit('intervalSeconds', e.currentTarget.value)}
            aria-invalid={errors.intervalSeconds ? true : undefined}
            aria-describedby={`${id}-interval-hint`}
          />
        </TextField>
        <Check label="Start Ghostport when I log in" checked={draft.startAtLogin} onChange={(v) => edit('startAtLogin', v)} />
      </Group>

      <Group title="Notifications">
        {!notificationsSupported ? (
          <p className="field-note">
            <Icon name="info" /> This desktop cannot show notifications{platform === 'linux' ? ' (no notification service is running)' : ''}; the tray icon still changes.
          </p>
        ) : null}
        <Check label="Show notifications" checked={draft.notificationsEnabled} onChange={(v) => edit('notificationsEnabled', v)} />
        <div className="indented" aria-disabled={!draft.notificationsEnabled}>
          <Check label="When something appears on a watched port" checked={draft.notifyAppeared} disabled={!draft.notificationsEnabled} onChange={(v) => edit('notifyAppeared', v)} />
          <Check label="When it goes away" checked={draft.notifyDisappeared} disabled={!draft.notificationsEnabled} onChange={(v) => edit('notifyDisappeared', v)} />
        </div>
      </Group>

      <Group title="History">
        <div className="field-pair">
          <TextField id={`${id}-days`} label="Keep events for (days)" error={errors.retentionDays}>
            <input id={`${id}-days`} inputMode="numeric" value={draft.retentionDays} onChange={(e) => edit('retentionDays', e.currentTarget.value)} aria-invalid={errors.retentionDays ? true : undefined} />
          </TextField>
          <TextField id={`${id}-events`} label="Keep at most (events)" error={errors.retentionEvents}>
            <input id={`${id}-events`} inputMode="numeric" value={draft.retentionEvents} onChange={(e) => edit('retentionEvents', e.currentTarget.value)} aria-invalid={errors.retentionEvents ? true : undefined} />
          </TextField>
        </div>
      </Group>

      <div className="settings-footer">
        {serverError ? (
          <p className="inline-error" role="alert">
            {serverError}
          </p>
        ) : null}
        <button type="button" className="button button-quiet" onClick={revert} disabled={!dirty || saving}>
          Revert
        </button>
        <button type="submit" className="button button-primary" disabled={!dirty || saving} aria-busy={saving}>
          Save
        </button>
      </div>

      <Group title="Allowlist">
        <p className="field-note">Programs you chose not to be alerted about. They are still shown and recorded.</p>
        {settings.allowlist.length === 0 ? (
          <p className="muted" data-testid="allowlist-empty">
            Nothing is allowlisted. Use {'\u201C'}Allow{'\u201D'} in a process{'\u2019'}s details to add one.
          </p>
        ) : (
          <ul className="allowlist" data-testid="allowlist">
            {settings.allowlist.map((entry) => (
              <li key={JSON.stringify(entry)}>
                <SafeText value={describeAllowed(entry)} className="allow-program" withTitle />
                <span className="chip">{entry.port === null ? 'any watched port' : `port ${entry.port}`}</span>
                <button type="button" className="button button-small" onClick={() => onRemoveAllowed(entry)} aria-label={`Remove ${escapeUnsafe(describeEntry(entry))} from the allowlist`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </Group>
    </form>
  );
}

function Group({ title, children }: { readonly title: string; readonly children: ReactNode }) {
  return (
    <fieldset className="settings-group">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

function TextField({ id, label, hint, error, children }: { readonly id: string; readonly label: string; readonly hint?: string; readonly error: string | undefined; readonly children: ReactNode }) {
  return (
    <div className={['text-field', error ? 'has-error' : ''].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <span className="field-hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function Check({ label, checked, disabled = false, onChange }: { readonly label: string; readonly checked: boolean; readonly disabled?: boolean; readonly onChange: (value: boolean) => void }) {
  return (
    <label className={['check', disabled ? 'is-disabled' : ''].filter(Boolean).join(' ')}>
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>{label}</span>
    </label>
  );
}
