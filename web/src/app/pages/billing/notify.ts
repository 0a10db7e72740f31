// notifications.show, accessible: a close button with a name (Mantine's has none: axe's
// button-name) and the description in the text colour (Mantine's gray 6
// under a title is 3.3:1 on white; AA wants 4.5:1).
import { notifications, type NotificationData } from '@mantine/notifications';

export function notify(data: NotificationData) {
  notifications.show({
    ...data,
    closeButtonProps: { 'aria-label': 'Close notification', ...data.closeButtonProps },
    styles: { description: { color: 'var(--mantine-color-text)' } },
  });
}
