// The app at /: Mantine (theme, notifications, modals), the signed-in state with its
// GraphQL client, and the router.
import './zod-config';
import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import { Alert, Anchor, MantineProvider, Notification, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { Notifications } from '@mantine/notifications';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { AuthProvider } from './auth/AuthProvider';
import { makeRouter } from './routes';

const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: { light: 8, dark: 7 },
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  // Links are told apart from text by more than their colour (WCAG 1.4.1).
  components: {
    Anchor: Anchor.extend({ defaultProps: { underline: 'always' } }),
    // Light alerts colour their title like their background; the text colour reads.
    Alert: Alert.extend({ styles: { title: { color: 'var(--mantine-color-text)' } } }),
    // The close button of a notification has no text of its own (axe: button-name).
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss notification' } } }),
  },
});

// Mantine's dimmed text (gray 6) is 3.3:1 on white; WCAG AA wants 4.5:1 for body text.
const resolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': '#5f666d' },
  dark: { '--mantine-color-dimmed': '#a6adb4' },
});

const router = makeRouter();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={resolver}>
      <Notifications position="top-right" />
      <AuthProvider>
        <ModalsProvider>
          <RouterProvider router={router} />
        </ModalsProvider>
      </AuthProvider>
    </MantineProvider>
  </StrictMode>,
);
